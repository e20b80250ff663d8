/**
 * The clients with any server and any bytes: newline framing for TCP, one socket per line for
 * UDP (a late or doubled reply is never taken for a later line's), `--timeout`, servers that
 * hang up early, least privilege (`--allow-net=127.0.0.1`), and the smaller promises of
 * issue #10. The fake servers here are the test's own sockets, so each misbehaves on cue.
 */
import assert from "node:assert/strict";
import { upperCase } from "../shared/codec.ts";
import {
  concat,
  connect,
  decode,
  denoRun,
  encode,
  fakeTcpServer,
  randomSource,
  readBytes,
  ROOT,
  runScript,
  startServer,
  test,
  udpSocket,
  WAIT_LIMIT_MS,
  withinOrFail,
} from "./helpers.ts";

/** What sending `input` line by line gives: each line upper-cased on its own line. */
function upperCasedLines(input: Uint8Array): Uint8Array {
  const lines: Uint8Array[] = [];
  let start = 0;
  while (start < input.length) {
    let end = input.indexOf(0x0a, start);
    if (end === -1) end = input.length;
    let line = input.subarray(start, end);
    if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
    lines.push(upperCase(line), new Uint8Array([0x0a]));
    start = end + 1;
  }
  return concat(lines);
}

/** Random bytes of every value, NUL and invalid UTF-8 included, cut into random lines. */
function randomLines(seed: number, size: number): Uint8Array {
  const random = randomSource(seed);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    // Mostly short lines, so there are many cuts between neighbouring lines' bytes.
    bytes[i] = random(12) === 0 ? 0x0a : random(256);
  }
  return bytes;
}

for (const kind of ["tcp", "udp"] as const) {
  test(`${kind}/client with piped input prints only the replies, one per line`, async () => {
    await using server = await startServer(`${kind}/server.ts`);
    const result = await runScript(
      `${kind}/client.ts`,
      ["--port", `${server.port}`],
      "hello\nworld\n",
    );
    assert.equal(decode(result.stdout), "HELLO\nWORLD\n");
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
  });

  test(`${kind}/client: random bytes come back upper-cased line by line`, async () => {
    await using server = await startServer(`${kind}/server.ts`);
    const input = randomLines(kind === "tcp" ? 11 : 12, kind === "tcp" ? 200_000 : 20_000);
    const result = await runScript(`${kind}/client.ts`, ["--port", `${server.port}`], input);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout, upperCasedLines(input));
  });
}

test("tcp/client never joins bytes of neighbouring lines into one character", async () => {
  await using server = await startServer("tcp/server.ts");
  const args = ["--port", `${server.port}`];
  // c4 \n b1 would be "ı" (which upper-cases to "I") if the newline were not a frame.
  const joined = await runScript(
    "tcp/client.ts",
    args,
    new Uint8Array([0x61, 0xc4, 0x0a, 0xb1, 0x62, 0x0a]),
  );
  assert.equal(joined.code, 0, joined.stderr);
  assert.deepEqual(joined.stdout, new Uint8Array([0x41, 0xc4, 0x0a, 0xb1, 0x42, 0x0a]));
  // "stra" c3 \n 9f "e": not "STRASSE", but each line's bytes, as sent line by line.
  const input = new Uint8Array([0x73, 0x74, 0x72, 0x61, 0xc3, 0x0a, 0x9f, 0x65, 0x0a]);
  const split = await runScript("tcp/client.ts", args, input);
  assert.deepEqual(
    split.stdout,
    new Uint8Array([...encode("STRA"), 0xc3, 0x0a, 0x9f, 0x45, 0x0a]),
  );
});

test("tcp/client: \\r\\n input and a last line without \\n give one reply per line", async () => {
  await using server = await startServer("tcp/server.ts");
  for (const lineByLine of [[], ["--line-by-line"]]) {
    const args = ["--port", `${server.port}`, ...lineByLine];
    const result = await runScript("tcp/client.ts", args, "one\r\ntwo\r\n\r\nlast");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(decode(result.stdout), "ONE\nTWO\n\nLAST\n", lineByLine.join(" "));
  }
});

test("tcp/client says how many replies came when the server hangs up early", async () => {
  let replies = 0;
  await using server = fakeTcpServer(async (data, conn) => {
    // Answers the first two lines, then hangs up.
    const lines = decode(data).split("\n").filter((line) => line !== "");
    for (const line of lines) {
      if (replies === 2) return false;
      await conn.write(encode(line.toUpperCase() + "\n"));
      replies++;
    }
    return true;
  });
  const result = await runScript(
    "tcp/client.ts",
    ["--port", `${server.port}`, "--line-by-line"],
    "a\nb\nc\nd\n",
  );
  assert.equal(result.code, 1);
  assert.equal(decode(result.stdout), "A\nB\n");
  assert.match(
    result.stderr,
    /closed the connection \(2 of 3 line\(s\) answered\)\n$/,
  );
});

test("tcp/client --timeout: a server that never answers gets one line, exit 1", async () => {
  for (const mode of [[], ["--line-by-line"]]) {
    await using server = fakeTcpServer(); // reads, never answers
    const heardAt = server.heard.then(() => Date.now());
    const args = ["--port", `${server.port}`, "--timeout", "0.3", ...mode];
    const result = await runScript("tcp/client.ts", args, "hello\n");
    const endedAt = Date.now();
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^\[tcp\/client\] error: no reply from 127\.0\.0\.1:\d+ within 0\.3 s \(0 of 1 line\(s\) answered\)\n$/,
    );
    // From the moment the line reached the server to the client's exit: the whole timeout
    // (give or take the clocks' rounding).
    const waited = endedAt - await withinOrFail(heardAt, WAIT_LIMIT_MS, "the line never came");
    assert.ok(waited >= 290, `gave up ${waited} ms after its line arrived, before the timeout`);
  }
});

/** A UDP server of the test's own: `answer` decides what to send back for each datagram. */
function fakeUdpServer(
  answer: (data: Uint8Array, index: number) => { reply: Uint8Array; delayMs: number }[],
): AsyncDisposable & { port: number } {
  const sock = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const sends: Promise<unknown>[] = [];
  const served = (async () => {
    try {
      for (let index = 0;; index++) {
        const [data, addr] = await sock.receive();
        for (const { reply, delayMs } of answer(data, index)) {
          const sent = new Promise((resolve) => setTimeout(resolve, delayMs))
            .then(() => sock.send(reply, addr));
          sends.push(sent.catch(() => {}));
        }
      }
    } catch {
      // closed by the test
    }
  })();
  return {
    port: (sock.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      await Promise.all(sends); // every reply went out, the late ones too
      sock.close();
      await served;
    },
  };
}

test("udp/client never takes a late reply for the next line's", async () => {
  await using server = fakeUdpServer((data, index) => [
    { reply: upperCase(data), delayMs: index === 0 ? 400 : 0 },
  ]);
  const args = ["--port", `${server.port}`, "--timeout", "0.2"];
  const result = await runScript("udp/client.ts", args, "one\ntwo\nthree\n");
  assert.equal(decode(result.stdout), "TWO\nTHREE\n");
  assert.equal(result.code, 1);
  assert.match(result.stderr, /no reply within 0\.2 s/);
});

test("udp/client prints a duplicated reply once, for its own line", async () => {
  await using server = fakeUdpServer((data) => [
    { reply: upperCase(data), delayMs: 0 },
    { reply: upperCase(data), delayMs: 1 },
  ]);
  const result = await runScript("udp/client.ts", ["--port", `${server.port}`], "a\nb\nc\n");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(decode(result.stdout), "A\nB\nC\n");
});

test("udp/client with no server says where the lines went and asks about a server", async () => {
  using silent = udpSocket();
  const args = ["--port", `${silent.port}`, "--timeout", "0.2"];
  const result = await runScript("udp/client.ts", args, "a\nb\n");
  assert.equal(result.code, 1);
  const last = result.stderr.trimEnd().split("\n").at(-1)!;
  assert.equal(
    last,
    `[udp/client] error: 2 of 2 line(s) got no reply from 127.0.0.1:${silent.port} within 0.2 s: ` +
      "lost on the way, or no UDP server is running there",
  );
});

test("udp/client reports a line too long for a datagram once, and goes on", async () => {
  await using server = await startServer("udp/server.ts");
  const input = "a".repeat(70_000) + "\nok\n";
  const result = await runScript("udp/client.ts", ["--port", `${server.port}`], input);
  assert.equal(result.code, 1);
  assert.equal(decode(result.stdout), "OK\n");
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], /line 1: 70000 bytes do not fit in a datagram; not sent/);
});

test("udp/server --drop 1 loses every reply and --duplicate 1 doubles every one", async () => {
  {
    await using dropping = await startServer("udp/server.ts", ["--drop", "1"]);
    const args = ["--port", `${dropping.port}`, "--timeout", "0.2"];
    const result = await runScript("udp/client.ts", args, "a\n");
    assert.equal(result.code, 1);
    assert.equal(decode(result.stdout), "");
    await dropping.waitForLog(/dropped the reply to 127\.0\.0\.1:\d+ \(--drop/);
  }
  await using doubling = await startServer("udp/server.ts", ["--duplicate", "1"]);
  using socket = udpSocket();
  await socket.sendTo(encode("twice"), doubling.port);
  for (let copy = 0; copy < 2; copy++) {
    const [reply] = await withinOrFail(socket.receive(), WAIT_LIMIT_MS, `copy ${copy + 1}`);
    assert.equal(decode(reply), "TWICE");
  }
  await doubling.waitForLog(/doubled the reply to 127\.0\.0\.1:\d+ \(--duplicate/);
});

test("udp/server rejects a --drop that is not a probability, exit 2", async () => {
  const result = await runScript("udp/server.ts", ["--drop", "1.5"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--drop must be a probability from 0 to 1, not "1\.5"/);
});

for (
  const [host, allow] of [["127.0.0.1", "--allow-net=127.0.0.1"], ["::1", "--allow-net=[::1]"]]
) {
  test(`all four scripts work with only ${allow}`, async () => {
    for (const kind of ["udp", "tcp"]) {
      await using server = await startServer(`${kind}/server.ts`, ["--host", host], [allow]);
      const args = ["--host", host, "--port", `${server.port}`];
      const result = await runScript(`${kind}/client.ts`, args, "least\n", { flags: [allow] });
      assert.equal(result.code, 0, `${kind}: ${result.stderr}`);
      assert.equal(decode(result.stdout), "LEAST\n");
    }
  });
}

test("a permission error names what to allow and repeats the user's flags", async () => {
  const args = ["--port", "5099", "--timeout", "1"];
  const result = await runScript("udp/client.ts", args, "", { flags: ["--allow-net=10.0.0.1"] });
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    "[udp/client] error: no network permission for 127.0.0.1:5099: run it as " +
      "deno run --allow-net=127.0.0.1 udp/client.ts --port 5099 --timeout 1\n",
  );
});

test("udp/client to another machine is told to allow its own bind address too", async () => {
  // It binds 0.0.0.0 to send to 192.0.2.2 (TEST-NET, nothing is sent): both need allowing.
  const args = ["--host", "192.0.2.2", "--port", "5099"];
  for (const flags of [[], ["--allow-net=192.0.2.2"]]) {
    const result = await runScript("udp/client.ts", args, "x\n", { flags });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /run it as deno run --allow-net=192\.0\.2\.2,0\.0\.0\.0 udp\/client\.ts --host 192\.0\.2\.2/,
    );
  }
});

for (const kind of ["tcp", "udp"] as const) {
  test(`${kind}/client piped into a reader that stops early (| head) ends quietly`, async () => {
    await using server = await startServer(`${kind}/server.ts`);
    const child = new Deno.Command(Deno.execPath(), {
      args: denoRun(`${kind}/client.ts`, ["--port", `${server.port}`], ["--allow-net=127.0.0.1"]),
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    writer.write(encode("hello\n".repeat(kind === "tcp" ? 500_000 : 2_000))).catch(() => {});
    const reader = child.stdout.getReader();
    await withinOrFail(reader.read(), WAIT_LIMIT_MS, "no first reply");
    await reader.cancel(); // like head: the reader goes away, the next write gets EPIPE
    const [status, stderr] = await withinOrFail(
      Promise.all([child.status, new Response(child.stderr).text()]),
      WAIT_LIMIT_MS,
      "the client did not stop",
    );
    writer.close().catch(() => {});
    assert.equal(stderr, "");
    assert.equal(status.code, 0);
  });
}

test("-h is --help", async () => {
  for (const script of ["udp/server.ts", "tcp/client.ts"]) {
    const result = await runScript(script, ["-h"]);
    assert.equal(result.code, 0);
    assert.match(decode(result.stdout), /^ {2}-h, --help +show this help$/m);
  }
});

test("a host that cannot be found is named in the error", async () => {
  const args = ["--host", "nosuchhost.invalid", "--port", "5005"];
  const result = await runScript("tcp/client.ts", args, "x\n");
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^\[tcp\/client\] error: cannot find host nosuchhost\.invalid/);
});

test("udp/server --help says what --quiet silences: lines per datagram", async () => {
  const result = await runScript("udp/server.ts", ["--help"]);
  assert.match(decode(result.stdout), /--quiet +no log line per datagram/);
});

test("without the unstable net API, the UDP scripts say to add --unstable-net", async () => {
  for (const script of ["udp/server.ts", "udp/client.ts"]) {
    const result = await runScript(script, ["--port", "5005"], "x\n", {
      flags: ["--no-config", "--allow-net"],
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Deno\.listenDatagram is an unstable API: run with --unstable-net/);
  }
});

test("tcp/server --once then Ctrl-C lets the connection finish within --grace", async () => {
  await using server = await startServer("tcp/server.ts", ["--once", "--grace", "5"]);
  using conn = await connect(server.port);
  await conn.write(encode("before\n"));
  assert.equal(decode(await readBytes(conn, 7)), "BEFORE\n");
  server.child.kill("SIGINT");
  // The waiting connection is told there is no more (end of stream), not cut off.
  const buffer = new Uint8Array(16);
  assert.equal(await withinOrFail(conn.read(buffer), WAIT_LIMIT_MS, "no end of stream"), null);
  conn.close();
  const status = await withinOrFail(server.exited(), WAIT_LIMIT_MS, "server still running");
  assert.equal(status.code, 0);
  assert.doesNotMatch(server.stderr(), /error/);
  assert.match(server.stderr(), /shutting down: 1 connection\(s\) get up to 5 s to finish/);
});

test("tcp/client names the server that reset the connection", async () => {
  // A server that reads one piece and resets, as the post's does when a read cuts a character.
  const python = new Deno.Command("python3", {
    args: [`${ROOT}tests/fixtures/reset.py`, "server"],
    stdout: "piped",
  }).spawn();
  const reader = python.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await withinOrFail(reader.read(), WAIT_LIMIT_MS, "no port")).value);
  try {
    const args = ["--port", `${port}`, "--line-by-line"];
    const result = await runScript("tcp/client.ts", args, "안녕하세요\n".repeat(50));
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^\[tcp\/client\] error: the server at 127\.0\.0\.1:\d+ (reset|closed) the connection \(0 of 1 line\(s\) answered\)\n$/,
    );
  } finally {
    reader.cancel().catch(() => {});
    await python.status;
  }
});
