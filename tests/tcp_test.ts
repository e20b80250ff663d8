import assert from "node:assert/strict";
import { upperCase } from "../shared/codec.ts";
import {
  connect,
  decode,
  encode,
  readBytes,
  readToEnd,
  runScript,
  startServer,
  test,
  withinOrFail,
  writeAll,
} from "./helpers.ts";

const LIMIT_MS = 10_000;

test("tcp/server announces its address and port on its first line", async () => {
  const server = await startServer("tcp/server.ts");
  try {
    assert.match(server.announcement, /^listening on tcp:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await server.stop();
  }
});

test("tcp/server sends back everything upper-cased until the client closes", async () => {
  const server = await startServer("tcp/server.ts");
  const conn = await connect(server.port);
  try {
    await writeAll(conn, encode("hello "));
    assert.equal(decode(await readBytes(conn, 6)), "HELLO ");
    await writeAll(conn, encode("안녕 straße"));
    assert.equal(decode(await readBytes(conn, encode("안녕 STRASSE").length)), "안녕 STRASSE");
    await conn.closeWrite();
    assert.equal((await withinOrFail(readToEnd(conn), LIMIT_MS, "no close")).length, 0);
    await server.waitForLog(/127\.0\.0\.1:\d+ closed/);
  } finally {
    conn.close();
    await server.stop();
  }
});

test("tcp/server upper-cases a character split at every point across two reads", async () => {
  const server = await startServer("tcp/server.ts", ["--trace"]);
  try {
    let connections = 0;
    for (const text of ["aß", "é한", "ΐb", "😀", "𐐨"]) {
      const input = encode(text);
      for (let cut = 1; cut < input.length; cut++) {
        const conn = await connect(server.port);
        const number = ++connections;
        await writeAll(conn, input.subarray(0, cut));
        // The server's trace shows it has read the first part on its own; then the rest goes.
        // (Well within the 250 ms after which the server would give up on the held bytes.)
        await server.waitForLog(new RegExp(`recv +#${number} -> ${cut} B `));
        await writeAll(conn, input.subarray(cut));
        await conn.closeWrite();
        const reply = await withinOrFail(readToEnd(conn), LIMIT_MS, "no reply");
        conn.close();
        assert.deepEqual(reply, upperCase(input), `${text} cut at ${cut}`);
      }
    }
  } finally {
    await server.stop();
  }
});

test("tcp/server passes invalid UTF-8 through unchanged", async () => {
  const server = await startServer("tcp/server.ts");
  const conn = await connect(server.port);
  try {
    await writeAll(conn, new Uint8Array([0x61, 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x62]));
    await conn.closeWrite();
    const reply = await withinOrFail(readToEnd(conn), LIMIT_MS, "no reply");
    assert.deepEqual(reply, new Uint8Array([0x41, 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x42]));
  } finally {
    conn.close();
    await server.stop();
  }
});

test("tcp/server holds an unfinished character across pauses of any length", async () => {
  const server = await startServer("tcp/server.ts");
  const conn = await connect(server.port);
  try {
    // "straße" cut inside "ß" (c3 9f), with a pause at the cut: the reply to the first part
    // holds back c3 however long the pause, and the whole is upper-cased as one "SS".
    for (const pauseMs of [0, 50, 400]) {
      await writeAll(conn, new Uint8Array([0x73, 0x74, 0x72, 0x61, 0xc3]));
      assert.equal(decode(await withinOrFail(readBytes(conn, 4), LIMIT_MS, "STRA")), "STRA");
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      await writeAll(conn, new Uint8Array([0x9f, 0x65, 0x0a]));
      const rest = await withinOrFail(readBytes(conn, 4), LIMIT_MS, "SSE\\n");
      assert.equal(decode(rest), "SSE\n", `after a pause of ${pauseMs} ms`);
    }
  } finally {
    conn.close();
    await server.stop();
  }
});

test("tcp/server serves several clients at the same time", async () => {
  const server = await startServer("tcp/server.ts");
  const conns = await Promise.all(Array.from({ length: 5 }, () => connect(server.port)));
  try {
    // Every client is connected before any is answered: a one-client-at-a-time server
    // would never answer the later ones while the first stays open.
    for (const [i, conn] of conns.entries()) await writeAll(conn, encode(`client ${i}`));
    const replies = await Promise.all(
      conns.map((conn, i) => withinOrFail(readBytes(conn, `client ${i}`.length), LIMIT_MS, "")),
    );
    assert.deepEqual(replies.map(decode), conns.map((_, i) => `CLIENT ${i}`));
  } finally {
    for (const conn of conns) conn.close();
    await server.stop();
  }
});

test("tcp/server survives clients that reset before and after being accepted", async () => {
  const server = await startServer("tcp/server.ts");
  try {
    // SO_LINGER 0 makes close() send a reset (RST) instead of a normal close (FIN).
    const script = `
import socket, struct, sys
port = int(sys.argv[1])
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port))
    if i % 2:  # accepted and mid-reply: wait for the start of the reply, then reset
        s.sendall(b"y" * 100000)
        s.recv(1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
`;
    const python = new Deno.Command("python3", { args: ["-c", script, `${server.port}`] });
    const { code } = await withinOrFail(python.output(), 30_000, "python client hung");
    assert.equal(code, 0);
    const conn = await connect(server.port);
    await writeAll(conn, encode("after the resets"));
    assert.equal(decode(await withinOrFail(readBytes(conn, 16), LIMIT_MS, "")), "AFTER THE RESETS");
    conn.close();
  } finally {
    await server.stop();
  }
});

test("tcp/server --once serves one connection like the tutorial, then exits 0", async () => {
  const server = await startServer("tcp/server.ts", ["--once"]);
  const conn = await connect(server.port);
  await writeAll(conn, encode("once"));
  assert.equal(decode(await readBytes(conn, 4)), "ONCE");
  conn.close();
  const status = await withinOrFail(server.exited(), LIMIT_MS, "--once server did not exit");
  assert.equal(status.code, 0);
});

test("tcp/client with piped input prints only the replies, one per line", async () => {
  const server = await startServer("tcp/server.ts");
  try {
    const result = await runScript("tcp/client.ts", ["--port", `${server.port}`], "hello\nworld\n");
    assert.equal(decode(result.stdout), "HELLO\nWORLD\n");
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
  } finally {
    await server.stop();
  }
});

test("tcp/client prints a reply longer than 1024 bytes whole, on one line", async () => {
  const server = await startServer("tcp/server.ts");
  try {
    const line = "가나다 abc ß ".repeat(2000); // 36,000 bytes out: many reads
    const input = `${line}\n\nshort\n${line}`;
    const result = await runScript("tcp/client.ts", ["--port", `${server.port}`], input);
    const upper = line.toUpperCase();
    assert.equal(decode(result.stdout), `${upper}\n\nSHORT\n${upper}\n`);
    assert.equal(result.code, 0);
  } finally {
    await server.stop();
  }
});

test("tcp/client waits for a reply that comes slowly and in pieces", async () => {
  // A stand-in server that answers each message one byte at a time, with pauses.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(1024);
    let count;
    while ((count = await conn.read(buffer)) !== null) {
      for (const byte of upperCase(buffer.slice(0, count))) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await writeAll(conn, new Uint8Array([byte]));
      }
    }
    conn.close();
  })();
  try {
    const args = ["--port", `${listener.addr.port}`];
    const result = await runScript("tcp/client.ts", args, "slow 한\nreply\n");
    assert.equal(decode(result.stdout), "SLOW 한\nREPLY\n");
    assert.equal(result.code, 0);
  } finally {
    listener.close();
    await serving;
  }
});

test("tcp/client says so in one line and exits 1 when the server closes first", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = listener.accept().then((conn) => conn.close());
  try {
    const result = await runScript("tcp/client.ts", ["--port", `${listener.addr.port}`], "hi\n");
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^\[tcp\/client\] error: the server at 127\.0\.0\.1:\d+ closed the connection \((0 of 1 line\(s\) answered|before a line was sent(; the rest of the input was not sent)?)\)\n$/,
    );
  } finally {
    // Closing the listener first ends an accept still waiting for a client that never came.
    listener.close();
    await serving.catch(() => {});
  }
});
