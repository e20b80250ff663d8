import assert from "node:assert/strict";
import { upperCase } from "../shared/codec.ts";
import { concat, decode, encode, runScript, startServer, test, withinOrFail } from "./helpers.ts";

const LIMIT_MS = 10_000;

/** A test's own UDP socket that sends to the server under test and waits for replies. */
async function withSocket(
  body: (send: (data: Uint8Array) => Promise<Uint8Array>, port: number) => Promise<void>,
) {
  const server = await startServer("udp/server.ts");
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const target = { hostname: "127.0.0.1", port: server.port, transport: "udp" as const };
  const send = async (data: Uint8Array) => {
    await socket.send(data, target);
    const [reply] = await withinOrFail(socket.receive(), LIMIT_MS, "no reply");
    return reply;
  };
  try {
    await body(send, server.port);
  } finally {
    socket.close();
    await server.stop();
  }
}

test("udp/server announces its address and port on its first line", async () => {
  const server = await startServer("udp/server.ts");
  try {
    assert.match(server.announcement, /^listening on udp:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(server.port > 0);
  } finally {
    await server.stop();
  }
});

test("udp/server sends each datagram back upper-cased, Korean and ß included", async () => {
  await withSocket(async (send) => {
    assert.deepEqual(decode(await send(encode("hello"))), "HELLO");
    assert.deepEqual(decode(await send(encode("안녕 straße"))), "안녕 STRASSE");
  });
});

test("udp/server passes invalid UTF-8 through and answers an empty datagram", async () => {
  await withSocket(async (send) => {
    const invalid = new Uint8Array([0x61, 0xff, 0xc3, 0x28, 0x62]);
    assert.deepEqual(await send(invalid), new Uint8Array([0x41, 0xff, 0xc3, 0x28, 0x42]));
    assert.deepEqual(await send(new Uint8Array(0)), new Uint8Array(0));
  });
});

test("udp/server answers a datagram of 65,507 bytes whole, not cut at 1024", async () => {
  await withSocket(async (send) => {
    const large = encode("abc한".repeat(65_507 / 6 + 1)).subarray(0, 65_507);
    const reply = await send(large);
    assert.deepEqual(reply.length, 65_507);
    assert.deepEqual(reply, upperCase(large));
  });
});

test("udp/server drops a reply too large for a datagram, logs it and serves on", async () => {
  const server = await startServer("udp/server.ts");
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const target = { hostname: "127.0.0.1", port: server.port, transport: "udp" as const };
  try {
    // 30,000 × ΐ: 60,000 bytes that upper-case to 180,000, more than any datagram holds.
    await socket.send(encode("ΐ".repeat(30_000)), target);
    await server.waitForLog(/127\.0\.0\.1:\d+: 180000 bytes do not fit in a datagram; not sent/);
    await socket.send(encode("still here"), target);
    const [reply] = await withinOrFail(socket.receive(), LIMIT_MS, "no reply");
    assert.deepEqual(decode(reply), "STILL HERE");
  } finally {
    socket.close();
    await server.stop();
  }
});

test("udp/client with piped input prints only the replies, one per line", async () => {
  const server = await startServer("udp/server.ts");
  try {
    const result = await runScript("udp/client.ts", ["--port", `${server.port}`], "hello\nworld\n");
    assert.deepEqual(decode(result.stdout), "HELLO\nWORLD\n");
    assert.deepEqual(result.code, 0);
    assert.deepEqual(result.stderr, "");
  } finally {
    await server.stop();
  }
});

test("udp/client sends Korean, invalid bytes, empty and unterminated lines", async () => {
  const server = await startServer("udp/server.ts");
  try {
    const input = concat([
      encode("안녕 world\r\n\n"),
      new Uint8Array([0x78, 0xff, 0x0a]),
      encode("ß"),
    ]);
    const result = await runScript("udp/client.ts", ["--port", `${server.port}`], input);
    const expected = concat([
      encode("안녕 WORLD\n\n"),
      new Uint8Array([0x58, 0xff, 0x0a]),
      encode("SS\n"),
    ]);
    assert.deepEqual(result.stdout, expected);
    assert.deepEqual(result.code, 0);
  } finally {
    await server.stop();
  }
});

test("udp/client reports a lost reply, goes on and exits non-zero", async () => {
  // A socket that receives but never answers: every reply is "lost".
  const silent = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  try {
    const port = (silent.addr as Deno.NetAddr).port;
    const args = ["--port", `${port}`, "--timeout", "0.2"];
    const result = await runScript("udp/client.ts", args, "one\ntwo\n");
    assert.deepEqual(result.code, 1);
    assert.deepEqual(decode(result.stdout), "");
    const lines = result.stderr.trim().split("\n");
    assert.deepEqual(lines.filter((line) => /no reply within 0.2 s/.test(line)).length, 2);
    assert.match(lines.at(-1)!, /2 line\(s\) got no reply/);
  } finally {
    silent.close();
  }
});

test("udp/client ignores a datagram that does not come from the server", async () => {
  // A stand-in server that, before replying, has a second socket send the client a stray
  // datagram: the client must not print it as the reply.
  const server = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const stranger = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const serving = (async () => {
    const [data, client] = await server.receive();
    await stranger.send(encode("NOT THE REPLY"), client);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.send(upperCase(data), client);
  })();
  try {
    const port = (server.addr as Deno.NetAddr).port;
    const result = await runScript("udp/client.ts", ["--port", `${port}`], "genuine\n");
    await withinOrFail(serving, LIMIT_MS, `the client sent nothing: ${result.stderr}`);
    assert.equal(decode(result.stdout), "GENUINE\n");
    assert.equal(result.code, 0);
    assert.match(result.stderr, /ignored a datagram from 127\.0\.0\.1:\d+/);
  } finally {
    server.close();
    stranger.close();
  }
});
