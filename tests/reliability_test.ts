/**
 * Servers that no peer can break: many clients at once, peers that reset, half-close, never
 * read or never send, limits, and shutdown under load. Every test here fails on the tutorial's
 * servers (one client at a time, dead on the first ConnectionResetError, no limits, Ctrl-C
 * traceback) and passes on ours. Real sockets, subprocess servers, bounded counts and times.
 */
import assert from "node:assert/strict";
import { upperCase } from "../shared/codec.ts";
import {
  connect,
  decode,
  denoRun,
  encode,
  onTerminal,
  randomSource,
  readBytes,
  readToEnd,
  ROOT,
  type RunningServer,
  runScript,
  sleep,
  START_LIMIT_MS,
  startServer,
  test,
  udpSocket,
  WAIT_LIMIT_MS,
  waitUntil,
  withinOrFail,
  writeAll,
} from "./helpers.ts";

/** `size` bytes of text that belongs to client `id` alone, Korean and ß included. */
function textFor(id: number, size: number): Uint8Array {
  const piece = encode(`client ${id} says hello 안녕 straße; `);
  const text = new Uint8Array(size);
  for (let at = 0; at < size; at += piece.length) text.set(piece.subarray(0, size - at), at);
  return text;
}

/** Sends `text` in random-sized writes while reading the reply; resolves with the reply. */
async function exchange(port: number, text: Uint8Array, seed: number): Promise<Uint8Array> {
  using conn = await connect(port);
  const reply = readToEnd(conn);
  const random = randomSource(seed);
  for (let at = 0; at < text.length;) {
    const size = 1 + random(4096);
    await writeAll(conn, text.subarray(at, at + size));
    at += size;
  }
  await conn.closeWrite();
  return await reply;
}

/** The server's resident memory, from /proc, in MiB (read with cat: Deno guards /proc). */
async function rssMiB(server: RunningServer): Promise<number> {
  const cat = new Deno.Command("cat", { args: [`/proc/${server.child.pid}/status`] });
  const status = decode((await cat.output()).stdout);
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) / 1024;
}

/** A new client is still served, correctly: the server outlived whatever came before. */
async function assertStillServing(port: number) {
  const reply = await withinOrFail(
    exchange(port, encode("still serving 한"), 1),
    WAIT_LIMIT_MS,
    "",
  );
  assert.equal(decode(reply), "STILL SERVING 한");
}

test("500 TCP clients at once each get exactly their own 64 KiB back", async () => {
  await using server = await startServer("tcp/server.ts", ["--quiet"]);
  const texts = Array.from({ length: 500 }, (_, id) => textFor(id, 64 * 1024));
  // Connect all first, so the 500 connections are open at the same time.
  const conns = await Promise.all(texts.map(() => connect(server.port)));
  const replies = await withinOrFail(
    Promise.all(conns.map(async (conn, id) => {
      try {
        const reply = readToEnd(conn);
        const random = randomSource(id + 1);
        for (let at = 0; at < texts[id].length;) {
          // Random sizes cut characters too: however late the next write comes on a busy
          // machine, the server holds the first half until the rest arrives.
          const size = 1 + random(8192);
          await writeAll(conn, texts[id].subarray(at, at + size));
          at += size;
        }
        await conn.closeWrite();
        return await reply;
      } finally {
        conn.close();
      }
    })),
    45_000,
    "500 clients not all served",
  );
  const wrong = replies.filter((reply, id) => !equalBytes(reply, upperCase(texts[id])));
  assert.equal(wrong.length, 0, `${wrong.length} clients got a wrong reply`);
});

test("the UDP server answers 20,000 datagrams from 50 sockets, each to its sender", async () => {
  await using server = await startServer("udp/server.ts");
  const counts = await withinOrFail(
    Promise.all(Array.from({ length: 50 }, async (_, id) => {
      using socket = udpSocket();
      let right = 0;
      for (let n = 0; n < 400; n++) {
        const message = encode(`socket ${id} datagram ${n} 한글 ß`);
        const reply = await socket.roundTrip(message, server.port, 5_000, `socket ${id} #${n}`);
        if (equalBytes(reply, upperCase(message))) right++;
      }
      return right;
    })),
    45_000,
    "datagrams not all answered",
  );
  assert.equal(counts.reduce((sum, count) => sum + count, 0), 20_000);
});

test("hostile datagrams never stop the UDP server; replies stay within 3× the request", async () => {
  await using server = await startServer("udp/server.ts");
  using socket = udpSocket();
  const exchange = async (message: Uint8Array) =>
    (await socket.roundTrip(message, server.port)).slice();
  assert.equal((await exchange(new Uint8Array(0))).length, 0); // empty in, empty out
  const largest = textFor(5, 65_507);
  assert.ok(equalBytes(await exchange(largest), upperCase(largest)));
  const invalid = new Uint8Array([0xff, 0xfe, 0xc0, 0x80, 0x61]);
  assert.deepEqual(await exchange(invalid), new Uint8Array([0xff, 0xfe, 0xc0, 0x80, 0x41]));
  // ΐ is 2 bytes and upper-cases to 6: the most any text grows. 10,917 of them make a
  // 65,502-byte reply, which fits; 10,918 would make 65,508, one byte too many: not sent.
  const fits = encode("ΐ".repeat(10_917));
  const reply = await exchange(fits);
  assert.equal(reply.length, fits.length * 3);
  await socket.sendTo(encode("ΐ".repeat(10_918)), server.port);
  await server.waitForLog(/65508 bytes do not fit in a datagram; not sent/);
  assert.equal(decode(await exchange(encode("still here"))), "STILL HERE");
});

test("abrupt peers are logged in one line each and the server serves on", async () => {
  await using server = await startServer("tcp/server.ts");
  // 1. Closes right after sending, without reading. Depending on timing the server sees a
  // close or a reset; either way, one line.
  const hasty = await connect(server.port);
  const hastyPort = hasty.localAddr.port;
  await writeAll(hasty, textFor(1, 256 * 1024));
  hasty.close();
  await server.waitForLog(new RegExp(`:${hastyPort} (closed|reset the connection|went away)`));
  await assertStillServing(server.port);

  // 2. Connects and sends nothing, then leaves.
  const silent = await connect(server.port);
  const silentPort = silent.localAddr.port;
  silent.close();
  await server.waitForLog(new RegExp(`127\\.0\\.0\\.1:${silentPort} closed`));
  await assertStillServing(server.port);

  // 3. A client process killed while its reply sits unread: its system resets the connection.
  const script = `
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x" * 65536)
s.recv(65536, socket.MSG_PEEK | socket.MSG_WAITALL)  # the whole echo is here, left unread
print("sent from", s.getsockname()[1], flush=True)
time.sleep(60)
`;
  const python = new Deno.Command("python3", {
    args: ["-c", script, `${server.port}`],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const ready = python.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = ""; // its whole first line, which may come in more than one read
  while (!first.includes("\n")) {
    const { value, done } = await withinOrFail(ready.read(), START_LIMIT_MS, "python not ready");
    if (done) break;
    first += value;
  }
  const killedPort = first.match(/^sent from (\d+)\n/)?.[1];
  assert.ok(killedPort, `python said: ${first}`);
  python.kill("SIGKILL");
  await python.status;
  await ready.cancel();
  // Its own line: the hasty client above may have been logged as a reset too.
  await server.waitForLog(
    new RegExp(`:${killedPort} (reset the connection|went away)`),
    WAIT_LIMIT_MS,
  );
  await assertStillServing(server.port);

  // One line per event, nothing else: no stack traces.
  for (const line of server.stderr().trimEnd().split("\n")) {
    assert.match(
      line,
      /^\[tcp\/server\] 127\.0\.0\.1:\d+ (connected|closed|reset the|went away)/,
    );
  }
});

test("a client that half-closes still gets the whole reply", async () => {
  await using server = await startServer("tcp/server.ts");
  using conn = await connect(server.port);
  const text = textFor(7, 1 << 20);
  const reply = readToEnd(conn);
  await writeAll(conn, text);
  await conn.closeWrite(); // like nc -N: "that is all I will send"
  assert.ok(equalBytes(await withinOrFail(reply, WAIT_LIMIT_MS, "reply cut"), upperCase(text)));
});

test("a client that sends 64 MiB and reads nothing is held back, not buffered", async () => {
  await using server = await startServer("tcp/server.ts");
  using conn = await connect(server.port);
  const pattern = textFor(9, 64 * 1024);
  const expected = upperCase(pattern);
  // 64 MiB: a server that buffered instead of holding the client back would take all of it
  // within the time the test watches, and its memory would pass 100 MiB. A server that holds
  // the client back stops it at what the sockets' buffers hold (about 7 MiB on Linux).
  const rounds = 1024;
  let sent = 0;
  const writing = (async () => {
    for (let round = 0; round < rounds; round++) {
      await writeAll(conn, pattern);
      sent += pattern.length;
    }
    await conn.closeWrite();
  })();
  writing.catch(() => {}); // if the test fails first, closing the connection ends the writes
  // While the client reads nothing, the writes stall: the server stopped reading from it.
  // Watch until no byte has gone out for 300 ms (or all of them have).
  let peak = 0;
  let last = -1;
  let still = 0;
  await waitUntil(
    async () => {
      peak = Math.max(peak, await rssMiB(server));
      still = sent === last ? still + 1 : 0;
      last = sent;
      return still >= 6;
    },
    "the client's writes to stall or end",
    { intervalMs: 50 },
  );
  assert.ok(sent < 32 << 20, `the client could push ${sent >> 20} MiB with nobody reading`);
  assert.ok(peak < 100, `server RSS reached ${peak.toFixed(1)} MiB`);
  console.log(`server RSS while held back: ${peak.toFixed(1)} MiB; sent ${sent >> 20} MiB`);

  await assertStillServing(server.port); // everyone else is served meanwhile

  // Now read: every byte arrives, upper-cased, in order.
  const buffer = new Uint8Array(256 * 1024);
  let received = 0;
  let count;
  while ((count = await conn.read(buffer)) !== null) {
    for (let i = 0; i < count; i++) {
      if (buffer[i] !== expected[(received + i) % expected.length]) {
        assert.fail(`byte ${received + i} differs`);
      }
    }
    received += count;
  }
  await writing;
  assert.equal(received, rounds * pattern.length);
  const after = await rssMiB(server);
  console.log(`server RSS after the 64 MiB went through: ${after.toFixed(1)} MiB`);
  assert.ok(after < 100, `server RSS reached ${after.toFixed(1)} MiB`);
});

test("--max-connections turns extra clients away with a log line", async () => {
  await using server = await startServer("tcp/server.ts", ["--max-connections", "2"]);
  const open = [await connect(server.port), await connect(server.port)];
  try {
    for (const conn of open) {
      await writeAll(conn, encode("in"));
      assert.equal(decode(await readBytes(conn, 2)), "IN");
    }
    const third = await connect(server.port);
    const reply = readToEnd(third).catch(() => new Uint8Array(0)); // closed, maybe reset
    assert.equal((await withinOrFail(reply, WAIT_LIMIT_MS, "third not turned away")).length, 0);
    third.close();
    await server.waitForLog(/turned away: already 2 connection\(s\) \(--max-connections\)/);
    // Once one leaves, there is room again.
    open.shift()!.close();
    await server.waitForLog(/closed/);
    await assertStillServing(server.port);
  } finally {
    for (const conn of open) conn.close();
  }
});

test("--idle-timeout closes a silent connection and spares a talking one", async () => {
  await using server = await startServer("tcp/server.ts", ["--idle-timeout", "0.5"]);
  const started = Date.now(); // the server's clock for the silent one starts after this
  using silent = await connect(server.port);
  using talking = await connect(server.port);
  let closedAt = 0;
  const silentEnd = readToEnd(silent).finally(() => closedAt = Date.now());
  // The talking one sends a byte, waits for its reply, pauses 100 ms (a fifth of the
  // timeout), and so on until the silent one has been closed.
  const talk = (async () => {
    while (closedAt === 0) {
      await writeAll(talking, encode("x"));
      assert.equal(decode(await readBytes(talking, 1)), "X");
      await sleep(100);
    }
  })();
  talk.catch(() => {}); // a failure is reported by the await below, or by the close
  const ended = await withinOrFail(silentEnd, WAIT_LIMIT_MS, "silent one not closed");
  assert.equal(ended.length, 0);
  await talk;
  // Closed no sooner than the timeout (give or take the clocks' rounding), and not much later.
  const after = closedAt - started;
  assert.ok(after >= 490 && after < 2_500, `closed after ${after} ms with --idle-timeout 0.5`);
  await server.waitForLog(/sent nothing for 0\.5 s; closed \(--idle-timeout\)/);
  await writeAll(talking, encode("y"));
  assert.equal(decode(await readBytes(talking, 1)), "Y");
});

test("SIGTERM during 100 transfers: listener closes, replies end cleanly, exit 0", async () => {
  await using server = await startServer("tcp/server.ts", ["--quiet", "--grace", "2"]);
  const conns = await Promise.all(Array.from({ length: 100 }, () => connect(server.port)));
  let stopping = false;
  const piece = textFor(3, 4096);
  const expectedPiece = upperCase(piece);
  // Each client streams until the server ends the stream, then stops and closes, as a real
  // client does when its reads reach the end.
  const replying = conns.map(() => Promise.withResolvers<void>());
  const transfers = conns.map(async (conn, id) => {
    let ended = false;
    const reading = readToEnd(conn, replying[id].resolve).catch(() => undefined)
      .finally(() => ended = true);
    try {
      while (!stopping && !ended) await writeAll(conn, piece);
    } catch {
      // the server ended the connection: expected once it shuts down
    }
    const reply = await reading;
    conn.close();
    return reply;
  });
  try {
    // Mid-transfer: every client is accepted and has had replies, and still sends.
    const replied = Promise.all(replying.map(({ promise }) => promise));
    await withinOrFail(replied, WAIT_LIMIT_MS, "not every client got a reply before the shutdown");
    const started = Date.now();
    server.child.kill("SIGTERM");
    // The listener closes at once: a new connection is refused right away.
    await waitUntil(() => refused(server.port), "connections to be refused after SIGTERM", {
      timeoutMs: 1_000,
    });
    const status = await withinOrFail(server.exited(), 4_000, "no exit within the grace period");
    const took = Date.now() - started;
    stopping = true;
    assert.equal(status.code, 0);
    const replies = await withinOrFail(Promise.all(transfers), WAIT_LIMIT_MS, "clients stuck");
    // Nothing altered: whatever each client got is a prefix of its upper-cased stream.
    let clean = 0;
    for (const reply of replies) {
      if (reply === undefined) continue; // reset by the final close after the grace period
      clean++;
      for (let i = 0; i < reply.length; i++) {
        if (reply[i] !== expectedPiece[i % expectedPiece.length]) assert.fail("reply altered");
      }
    }
    console.log(`shutdown took ${took} ms; ${clean} of 100 connections ended cleanly`);
    assert.equal(clean, 100, "connections reset instead of ending cleanly");
  } finally {
    stopping = true;
  }
});

test("--grace bounds a shutdown that a client would drag out", async () => {
  await using server = await startServer("tcp/server.ts", ["--grace", "0.5"]);
  const conn = await connect(server.port);
  let stopping = false;
  // A client that never stops sending, whatever the server says.
  const flooding = (async () => {
    while (!stopping) {
      await writeAll(conn, textFor(4, 4096));
      // A turn of the event loop: older Deno resolves a write that finds room at once, and a
      // loop of such writes would starve this test's own timers.
      await sleep(0);
    }
  })().catch(() => {});
  try {
    await server.waitForLog(/connected/);
    const started = Date.now();
    server.child.kill("SIGINT");
    const status = await withinOrFail(server.exited(), 5_000, "grace period not enforced");
    const took = Date.now() - started;
    assert.equal(status.code, 0);
    // No sooner than the grace (give or take the clocks' rounding), and not much later.
    assert.ok(took >= 490 && took < 2_000, `shutdown took ${took} ms with --grace 0.5`);
  } finally {
    stopping = true;
    conn.close();
    await flooding;
  }
});

test("a second Ctrl-C ends the --grace period at once, saying so", async () => {
  await using server = await startServer("tcp/server.ts", ["--grace", "30"]);
  using _client = await connect(server.port); // a connection the shutdown waits for
  await server.waitForLog(/connected/);
  server.child.kill("SIGINT");
  await server.waitForLog(/shutting down: 1 connection\(s\) get up to 30 s to finish/);
  server.child.kill("SIGINT");
  const status = await withinOrFail(server.exited(), 5_000, "a second Ctrl-C did not stop it");
  assert.equal(status.code, 0);
  await server.waitForLog(/SIGINT while stopping: stopped at once/);
});

test("a server bound beyond loopback warns in one line naming the address", async () => {
  for (const script of ["udp/server.ts", "tcp/server.ts"]) {
    await using server = await startServer(script, ["--host", "0.0.0.0"]);
    const line = await server.waitForLog(/warning/);
    assert.match(line, /warning: 0\.0\.0\.0:\d+ can be reached from other machines/);
  }
});

test("--quiet silences per-connection lines", async () => {
  await using server = await startServer("tcp/server.ts", ["--quiet"]);
  const result = await runScript("tcp/client.ts", ["--port", `${server.port}`], "quiet\n");
  assert.equal(decode(result.stdout), "QUIET\n");
  const rude = await connect(server.port);
  await writeAll(rude, textFor(2, 1 << 20));
  rude.close();
  await assertStillServing(server.port);
  await server.stop(); // all it wrote, to its end
  assert.equal(server.stderr(), "");
});

test("log colour only on a terminal and only without NO_COLOR", async () => {
  // A server that fails at once, on a terminal with and without NO_COLOR, and on a pipe.
  const command = [Deno.execPath(), ...denoRun("udp/server.ts", ["--bogus"])];
  const terminalWith = async (env: Record<string, string>) =>
    (await onTerminal(command, [], { env })).screen;
  const ESC = "\x1b[";
  assert.ok((await terminalWith({})).includes(ESC), "no colour on a terminal");
  assert.ok(!(await terminalWith({ NO_COLOR: "1" })).includes(ESC), "colour despite NO_COLOR");
  const piped = await new Deno.Command(Deno.execPath(), {
    args: denoRun("udp/server.ts", ["--bogus"]),
    cwd: ROOT,
    env: {},
    clearEnv: true,
  }).output();
  assert.ok(!decode(piped.stderr).includes(ESC), "colour on a pipe");
  assert.match(decode(piped.stderr), /unknown option --bogus/);
});

/** True when a connection to `port` is refused: nothing listens there. */
async function refused(port: number): Promise<boolean> {
  try {
    (await connect(port)).close();
    return false;
  } catch {
    return true;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
