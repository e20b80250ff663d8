/**
 * The experiments of issue #25: `--recv-size` on the four scripts (a datagram cut as the post's
 * `recvfrom(1024)` cuts it, a TCP read that cuts a character, which is held for the next).
 */
import assert from "node:assert/strict";
import { upperCase } from "../shared/codec.ts";
import {
  concat,
  connect,
  decode,
  encode,
  randomSource,
  readBytes,
  runScript,
  startServer,
  test,
  udpSocket,
  WAIT_LIMIT_MS,
  withinOrFail,
  writeAll,
} from "./helpers.ts";

const SCRIPTS = ["udp/server.ts", "udp/client.ts", "tcp/server.ts", "tcp/client.ts"];

for (const script of SCRIPTS) {
  test(`${script} checks --recv-size like every flag and lists it in --help`, async () => {
    for (const value of ["0", "65537", "1.5", "x"]) {
      const result = await runScript(script, ["--recv-size", value]);
      assert.equal(result.code, 2, `--recv-size ${value}`);
      const name = script.replace(/\.ts$/, "");
      assert.equal(
        result.stderr,
        `[${name}] error: --recv-size must be a whole number from 1 to 65536, not "${value}" ` +
          "(see --help)\n",
      );
    }
    const help = await runScript(script, ["--help"]);
    assert.match(decode(help.stdout), /^ {2}--recv-size BYTES +\S/m);
  });
}

test("udp/server --recv-size 4 cuts a longer datagram, says so for it, and serves on", async () => {
  await using server = await startServer("udp/server.ts", ["--recv-size", "4"]);
  using socket = udpSocket();
  const cut = `127.0.0.1:${socket.port}: a datagram longer than 4 B, cut (--recv-size)`;
  assert.equal(decode(await socket.roundTrip(encode("hello"), server.port)), "HELL");
  await server.waitForLog(new RegExp(`^\\[udp/server\\] ${cut.replace(/[.()-]/g, "\\$&")}$`));
  assert.equal(decode(await socket.roundTrip(encode("abcd"), server.port)), "ABCD");
  // 안녕 is ec 95 88 eb 85 95: the cut leaves 안 and the first byte of 녕, passed as it came.
  const korean = await socket.roundTrip(encode("안녕"), server.port);
  assert.deepEqual(korean, concat([encode("안"), Uint8Array.of(0xeb)]));
  assert.equal(decode(await socket.roundTrip(encode("ok"), server.port)), "OK");
  await server.stop();
  const lines = server.stderr().trimEnd().split("\n");
  assert.deepEqual(lines, [`[udp/server] ${cut}`, `[udp/server] ${cut}`], "hello and 안녕 only");
});

test("udp/server --recv-size 1024 answers the post's way: 1,500 bytes in, 1,024 back", async () => {
  await using server = await startServer("udp/server.ts", ["--recv-size", "1024"]);
  using socket = udpSocket();
  const random = randomSource(1024);
  const datagram = Uint8Array.from({ length: 1500 }, () => 0x61 + random(26)); // a-z
  const reply = await socket.roundTrip(datagram, server.port);
  assert.equal(reply.length, 1024);
  assert.deepEqual(reply, upperCase(datagram.subarray(0, 1024)));
});

test("udp/client --recv-size 2048 prints the first 2,048 bytes of a longer reply, warns", async () => {
  // A server of the test's own that answers every datagram with 3,000 bytes.
  using server = udpSocket();
  const reply = Uint8Array.from({ length: 3000 }, (_, i) => 0x41 + (i % 26)); // A-Z, again
  const answering = (async () => {
    for await (const [, from] of server) await server.send(reply, from);
  })().catch(() => {}); // ends when the socket is closed
  try {
    for (const recvSize of [[], ["--recv-size", "2048"]]) {
      const args = ["--port", `${server.port}`, "--timeout", "5", ...recvSize];
      const result = await runScript("udp/client.ts", args, "hi\n");
      assert.equal(result.code, 0, result.stderr);
      const printed = recvSize.length ? reply.subarray(0, 2048) : reply; // by default: whole
      assert.deepEqual(result.stdout, concat([printed, encode("\n")]));
      assert.equal(
        result.stderr,
        recvSize.length ? "[udp/client] line 1: the reply was longer than 2048 B: cut\n" : "",
      );
    }
  } finally {
    server.close();
    await answering;
  }
});

test("tcp/server --recv-size 4 reads 4 bytes at most and holds a cut character", async () => {
  await using server = await startServer("tcp/server.ts", ["--recv-size", "4", "--trace"]);
  using conn = await connect(server.port);
  await writeAll(conn, encode("안녕\n")); // one write of 7 bytes
  assert.equal(decode(await readBytes(conn, 7)), "안녕\n");
  await server.waitForLog(/^\[tcp\/server\] hold +127\.0\.0\.1:\d+ 1 B "\\xeb"$/);
  const reads = server.stderr().split("\n").flatMap((line) => {
    const size = line.match(/^\[tcp\/server\] recv +#\d+ -> ([\d,]+) B/)?.[1];
    return size ? [Number(size)] : [];
  });
  assert.ok(reads.length >= 2 && reads.every((size) => size <= 4), `reads: ${reads}`);
  assert.equal(reads[0], 4, "the first read took 4 bytes of the 7");
});

test("tcp/server --recv-size 5 loses nothing of random Korean and ASCII in random writes", async () => {
  await using server = await startServer("tcp/server.ts", ["--recv-size", "5"]);
  const random = randomSource(25);
  let text = "";
  while (text.length < 12_000) {
    // A Hangul syllable (3 bytes), or a printable ASCII character or a newline.
    text += random(2)
      ? String.fromCharCode(0xac00 + random(11_172))
      : random(20)
      ? String.fromCharCode(0x20 + random(95))
      : "\n";
  }
  const input = encode(text);
  const expected = upperCase(input);
  using conn = await connect(server.port);
  conn.setNoDelay(true); // each write its own segment, as far as TCP lets it
  const reply = readBytes(conn, expected.length);
  for (let at = 0; at < input.length;) {
    const size = 1 + random(40);
    await writeAll(conn, input.subarray(at, at + size));
    at += size;
  }
  const got = await withinOrFail(reply, WAIT_LIMIT_MS, "the reply stopped short");
  assert.equal(got.length, expected.length);
  assert.deepEqual(got, expected);
});
