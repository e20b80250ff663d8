import assert from "node:assert/strict";
import { upperCase } from "../shared/codec.ts";
import {
  connect,
  decode,
  encode,
  pythonResets,
  readBytes,
  readToEnd,
  runScript,
  startServer,
  test,
  WAIT_LIMIT_MS,
  withinOrFail,
  writeAll,
} from "./helpers.ts";

test("tcp/server sends back everything upper-cased until the client closes", async () => {
  await using server = await startServer("tcp/server.ts");
  using conn = await connect(server.port);
  await writeAll(conn, encode("hello "));
  assert.equal(decode(await readBytes(conn, 6)), "HELLO ");
  await writeAll(conn, encode("안녕 straße"));
  assert.equal(decode(await readBytes(conn, encode("안녕 STRASSE").length)), "안녕 STRASSE");
  await conn.closeWrite();
  assert.equal((await withinOrFail(readToEnd(conn), WAIT_LIMIT_MS, "no close")).length, 0);
  await server.waitForLog(/127\.0\.0\.1:\d+ closed/);
});

test("tcp/server upper-cases a character split at every point across two reads", async () => {
  await using server = await startServer("tcp/server.ts", ["--trace"]);
  let connections = 0;
  for (const text of ["aß", "é한", "ΐb", "😀", "𐐨"]) {
    const input = encode(text);
    for (let cut = 1; cut < input.length; cut++) {
      using conn = await connect(server.port);
      const number = ++connections;
      await writeAll(conn, input.subarray(0, cut));
      // The server's trace shows it has read the first part on its own; then the rest goes,
      // and the server, which holds the cut character for as long as it takes, completes it.
      await server.waitForLog(new RegExp(`recv +#${number} -> ${cut} B `));
      await writeAll(conn, input.subarray(cut));
      await conn.closeWrite();
      const reply = await withinOrFail(readToEnd(conn), WAIT_LIMIT_MS, "no reply");
      assert.deepEqual(reply, upperCase(input), `${text} cut at ${cut}`);
    }
  }
});

test("tcp/server passes invalid UTF-8 through unchanged", async () => {
  await using server = await startServer("tcp/server.ts");
  using conn = await connect(server.port);
  await writeAll(conn, new Uint8Array([0x61, 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x62]));
  await conn.closeWrite();
  const reply = await withinOrFail(readToEnd(conn), WAIT_LIMIT_MS, "no reply");
  assert.deepEqual(reply, new Uint8Array([0x41, 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x42]));
});

test("tcp/server holds an unfinished character across pauses of any length", async () => {
  await using server = await startServer("tcp/server.ts");
  using conn = await connect(server.port);
  // "straße" cut inside "ß" (c3 9f), with a pause at the cut: the reply to the first part
  // holds back c3 however long the pause, and the whole is upper-cased as one "SS".
  for (const pauseMs of [0, 50, 400]) {
    await writeAll(conn, new Uint8Array([0x73, 0x74, 0x72, 0x61, 0xc3]));
    assert.equal(decode(await withinOrFail(readBytes(conn, 4), WAIT_LIMIT_MS, "STRA")), "STRA");
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await writeAll(conn, new Uint8Array([0x9f, 0x65, 0x0a]));
    const rest = await withinOrFail(readBytes(conn, 4), WAIT_LIMIT_MS, "SSE\\n");
    assert.equal(decode(rest), "SSE\n", `after a pause of ${pauseMs} ms`);
  }
});

test("tcp/server serves several clients at the same time", async () => {
  await using server = await startServer("tcp/server.ts");
  const conns = await Promise.all(Array.from({ length: 5 }, () => connect(server.port)));
  try {
    // Every client is connected before any is answered: a one-client-at-a-time server
    // would never answer the later ones while the first stays open.
    for (const [i, conn] of conns.entries()) await writeAll(conn, encode(`client ${i}`));
    const replies = await Promise.all(
      conns.map((conn, i) =>
        withinOrFail(readBytes(conn, `client ${i}`.length), WAIT_LIMIT_MS, "")
      ),
    );
    assert.deepEqual(replies.map(decode), conns.map((_, i) => `CLIENT ${i}`));
  } finally {
    for (const conn of conns) conn.close();
  }
});

test("tcp/server survives clients that reset before and after being accepted", async () => {
  await using server = await startServer("tcp/server.ts");
  // 200 connections that reset: every other one at once, maybe before the server accepts it;
  // the others once accepted and mid-reply (they send 100,000 bytes and wait for the start of
  // the reply).
  await pythonResets(["client", `${server.port}`, "100", "", "y".repeat(100_000)], 30_000);
  using conn = await connect(server.port);
  await writeAll(conn, encode("after the resets"));
  const reply = await withinOrFail(readBytes(conn, 16), WAIT_LIMIT_MS, "");
  assert.equal(decode(reply), "AFTER THE RESETS");
});

test("tcp/server --once serves one connection like the tutorial, then exits 0", async () => {
  await using server = await startServer("tcp/server.ts", ["--once"]);
  const conn = await connect(server.port);
  await writeAll(conn, encode("once"));
  assert.equal(decode(await readBytes(conn, 4)), "ONCE");
  conn.close();
  const status = await withinOrFail(server.exited(), WAIT_LIMIT_MS, "--once server did not exit");
  assert.equal(status.code, 0);
});

test("tcp/client prints a reply longer than 1024 bytes whole, on one line", async () => {
  await using server = await startServer("tcp/server.ts");
  const line = "가나다 abc ß ".repeat(2000); // 36,000 bytes out: many reads
  const input = `${line}\n\nshort\n${line}`;
  const result = await runScript("tcp/client.ts", ["--port", `${server.port}`], input);
  const upper = line.toUpperCase();
  assert.equal(decode(result.stdout), `${upper}\n\nSHORT\n${upper}\n`);
  assert.equal(result.code, 0);
});

test("tcp/client waits for a reply that comes slowly and in pieces", async () => {
  // A stand-in server that answers each message one byte at a time, with pauses.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    using conn = await listener.accept();
    const buffer = new Uint8Array(1024);
    let count;
    while ((count = await conn.read(buffer)) !== null) {
      for (const byte of upperCase(buffer.slice(0, count))) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await writeAll(conn, new Uint8Array([byte]));
      }
    }
  })();
  const result = await runScript(
    "tcp/client.ts",
    ["--port", `${listener.addr.port}`],
    "slow 한\nreply\n",
  );
  assert.equal(decode(result.stdout), "SLOW 한\nREPLY\n");
  assert.equal(result.code, 0);
  await serving;
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
