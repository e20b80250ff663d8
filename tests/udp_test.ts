import assert from "node:assert/strict";
import { upperCase } from "../shared/codec.ts";
import {
  concat,
  decode,
  encode,
  runScript,
  startServer,
  test,
  udpSocket,
  WAIT_LIMIT_MS,
  withinOrFail,
} from "./helpers.ts";

test("udp/server sends each datagram back upper-cased, Korean and ß included", async () => {
  await using server = await startServer("udp/server.ts");
  using socket = udpSocket();
  assert.deepEqual(decode(await socket.roundTrip(encode("hello"), server.port)), "HELLO");
  const korean = await socket.roundTrip(encode("안녕 straße"), server.port);
  assert.deepEqual(decode(korean), "안녕 STRASSE");
});

test("udp/server passes invalid UTF-8 through and answers an empty datagram", async () => {
  await using server = await startServer("udp/server.ts");
  using socket = udpSocket();
  const invalid = new Uint8Array([0x61, 0xff, 0xc3, 0x28, 0x62]);
  const reply = await socket.roundTrip(invalid, server.port);
  assert.deepEqual(reply, new Uint8Array([0x41, 0xff, 0xc3, 0x28, 0x42]));
  assert.deepEqual(await socket.roundTrip(new Uint8Array(0), server.port), new Uint8Array(0));
});

test("udp/server answers a datagram of 65,507 bytes whole, not cut at 1024", async () => {
  await using server = await startServer("udp/server.ts");
  using socket = udpSocket();
  const large = encode("abc한".repeat(65_507 / 6 + 1)).subarray(0, 65_507);
  const reply = await socket.roundTrip(large, server.port);
  assert.deepEqual(reply.length, 65_507);
  assert.deepEqual(reply, upperCase(large));
});

test("udp/server drops a reply too large for a datagram, logs it and serves on", async () => {
  await using server = await startServer("udp/server.ts");
  using socket = udpSocket();
  // 30,000 × ΐ: 60,000 bytes that upper-case to 180,000, more than any datagram holds.
  await socket.sendTo(encode("ΐ".repeat(30_000)), server.port);
  await server.waitForLog(/127\.0\.0\.1:\d+: 180000 bytes do not fit in a datagram; not sent/);
  assert.deepEqual(decode(await socket.roundTrip(encode("still here"), server.port)), "STILL HERE");
});

test("udp/client sends Korean, invalid bytes, empty and unterminated lines", async () => {
  await using server = await startServer("udp/server.ts");
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
});

test("udp/client reports a lost reply, goes on and exits non-zero", async () => {
  // A socket that receives but never answers: every reply is "lost".
  using silent = udpSocket();
  const args = ["--port", `${silent.port}`, "--timeout", "0.2"];
  const result = await runScript("udp/client.ts", args, "one\ntwo\n");
  assert.deepEqual(result.code, 1);
  assert.deepEqual(decode(result.stdout), "");
  const lines = result.stderr.trim().split("\n");
  assert.deepEqual(lines.filter((line) => /no reply within 0.2 s/.test(line)).length, 2);
  assert.match(lines.at(-1)!, /2 line\(s\) got no reply/);
});

test("udp/client ignores a datagram that does not come from the server", async () => {
  // A stand-in server that, before replying, has a second socket send the client a stray
  // datagram: the client must not print it as the reply.
  using server = udpSocket();
  using stranger = udpSocket();
  const serving = (async () => {
    const [data, client] = await server.receive();
    await stranger.send(encode("NOT THE REPLY"), client);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.send(upperCase(data), client);
  })();
  const result = await runScript("udp/client.ts", ["--port", `${server.port}`], "genuine\n");
  await withinOrFail(serving, WAIT_LIMIT_MS, `the client sent nothing: ${result.stderr}`);
  assert.equal(decode(result.stdout), "GENUINE\n");
  assert.equal(result.code, 0);
  assert.match(result.stderr, /ignored a datagram from 127\.0\.0\.1:\d+/);
});
