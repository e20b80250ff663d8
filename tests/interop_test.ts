/**
 * Our programs mixed with the blog post's own Python programs (tests/fixtures, as written in
 * the post), with `nc` (netcat-openbsd) and with `socat`, and all four scripts over IPv6.
 * A test whose tool is missing is skipped, and says which package provides it.
 */
import assert from "node:assert/strict";
import { upperCase } from "../shared/codec.ts";
import {
  decode,
  encode,
  freePort,
  HAS_IPV6_LOOPBACK,
  hasCommand,
  randomSource,
  ROOT,
  RUN_LIMIT_MS,
  runScript,
  startServer,
  test,
  udpSocket,
  WAIT_LIMIT_MS,
  waitUntil,
  within,
  withinOrFail,
} from "./helpers.ts";

const LINES = "hello\n안녕하세요 world\nstraße\n";
const UPPER = "HELLO\n안녕하세요 WORLD\nSTRASSE\n";

/** Skips with a message naming the Debian package when a tool is not installed. */
function testWith(tool: string, pkg: string, name: string, body: () => Promise<void>) {
  const missing = !hasCommand(tool);
  if (missing) console.warn(`skipping "${name}": ${tool} not found (apt-get install ${pkg})`);
  test(name, body, missing);
}

/** Runs a command to the end with `stdin` piped in, killed after `RUN_LIMIT_MS`. */
async function run(command: string, args: string[], stdin: string | Uint8Array) {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), RUN_LIMIT_MS);
  const writer = child.stdin.getWriter();
  await writer.write(typeof stdin === "string" ? encode(stdin) : stdin).catch(() => {});
  await writer.close().catch(() => {});
  const output = await child.output();
  clearTimeout(killer);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** The tutorial's Python client prints its prompt `->` before every input, also when piped. */
function withoutPrompts(stdout: string): string {
  return stdout.replaceAll("->", "");
}

/**
 * Starts one of the blog post's Python servers on a free port. They announce nothing, so
 * readiness is polled: a bounded number of short tries to reach it. At the end of its
 * `await using` block it is stopped, and fails the test if it died with a Traceback.
 */
async function startPythonServer(kind: "udp" | "tcp") {
  // The probe below binds the port for a moment to see whether it is taken; should the post's
  // server try to bind it at that very moment, it exits (address in use): try another port.
  for (let attempt = 1;; attempt++) {
    const port = freePort();
    const child = new Deno.Command("python3", {
      args: [`tests/fixtures/${kind}_server.py`, "127.0.0.1", `${port}`],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let exited = false;
    child.status.then(() => exited = true);
    const stop = async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited (the TCP server exits after its one client)
      }
      await child.status;
      return await stderr;
    };
    try {
      await waitUntil(async () => exited || await reachable(kind, port), `python ${kind} server`, {
        timeoutMs: 10_000,
        intervalMs: 25,
      });
    } catch (error) {
      await stop();
      throw error;
    }
    const stopAndCheck = async () => assert.doesNotMatch(await stop(), /Traceback/);
    if (!exited) return { port, child, [Symbol.asyncDispose]: stopAndCheck };
    const why = await stop();
    if (attempt === 3) throw new Error(`the post's ${kind} server did not start: ${why}`);
  }
}

async function reachable(kind: "udp" | "tcp", port: number): Promise<boolean> {
  if (kind === "tcp") {
    // Only bind is checked: a connection would use up the tutorial server's one accept.
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return false;
    } catch {
      return true;
    }
  }
  using socket = udpSocket();
  await socket.sendTo(encode("ping"), port);
  const reply = await within(socket.receive(), 100);
  return reply !== undefined && decode(reply[0]) === "PING";
}

for (const kind of ["udp", "tcp"] as const) {
  test(`the tutorial's Python ${kind} client talks to our ${kind}/server.ts`, async () => {
    await using server = await startServer(`${kind}/server.ts`);
    const args = [`tests/fixtures/${kind}_client.py`, "127.0.0.1", `${server.port}`];
    const result = await run("python3", args, LINES);
    // The tutorial's client ends with EOFError at the end of input: its only way out.
    assert.match(result.stderr, /EOFError/);
    assert.equal(withoutPrompts(result.stdout), UPPER);
  });

  test(`our ${kind}/client.ts talks to the tutorial's Python ${kind} server`, async () => {
    await using server = await startPythonServer(kind);
    const result = await runScript(`${kind}/client.ts`, ["--port", `${server.port}`], LINES);
    assert.equal(decode(result.stdout), UPPER);
    assert.equal(result.code, 0, result.stderr);
    if (kind === "tcp") {
      // The tutorial's TCP server serves one connection and exits when it closes.
      assert.equal((await withinOrFail(server.child.status, WAIT_LIMIT_MS, "")).code, 0);
    }
  });
}

test("tcp/client.ts agrees with the Python server where Unicode versions differ", async () => {
  // Python 3.11 (Unicode 14) leaves "ƛ" as it is; Deno's V8 (Unicode 16) upper-cases it. The
  // client ends each reply at its newline, so it prints whatever the server sent and goes on.
  await using server = await startPythonServer("tcp");
  const result = await runScript("tcp/client.ts", ["--port", `${server.port}`], "ƛ a\nb\n");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(decode(result.stdout), "ƛ A\nB\n");
});

test("tcp/client.ts --line-by-line keeps the Python server's 1024-byte reads whole", async () => {
  // The post's server decodes each recv(1024) on its own: a Korean character cut between two
  // reads crashes it. One line at a time, each read holds one short line.
  const lines = "안녕하세요\n".repeat(200);
  await using server = await startPythonServer("tcp");
  const args = ["--port", `${server.port}`, "--line-by-line"];
  const result = await runScript("tcp/client.ts", args, lines);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(decode(result.stdout), lines);
});

testWith("socat", "socat", "tcp/client.ts talks to a socat echo server", async () => {
  // An echo server changes nothing: the client still finds each reply at its newline.
  const port = freePort();
  const socat = new Deno.Command("socat", {
    args: [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, "EXEC:cat"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitUntil(() => reachable("tcp", port), "socat to listen", { intervalMs: 25 });
    for (const mode of [[], ["--line-by-line"]]) {
      const args = ["--port", `${port}`, ...mode];
      const result = await runScript("tcp/client.ts", args, MANY_LINES);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(decode(result.stdout), MANY_LINES, mode.join(" "));
    }
  } finally {
    socat.kill("SIGKILL");
    await socat.status;
  }
});

/** 1,000 numbered lines: any loss, duplication or reordering shows in the comparison. */
const MANY_LINES = Array.from({ length: 1000 }, (_, i) => `line ${i} 한글 ß\n`).join("");
const MANY_UPPER = decode(upperCase(encode(MANY_LINES)));

testWith("nc", "netcat-openbsd", "nc talks to tcp/server.ts line by line", async () => {
  await using server = await startServer("tcp/server.ts");
  // -N: shut down the sending side at the end of input (a half-close); the reply still comes.
  const result = await run("nc", ["-N", "127.0.0.1", `${server.port}`], MANY_LINES);
  assert.equal(result.stdout, MANY_UPPER);
});

testWith("nc", "netcat-openbsd", "nc -u talks to udp/server.ts", async () => {
  await using server = await startServer("udp/server.ts");
  // -w1: stop one second after the last reply; each read of stdin goes out as a datagram.
  const result = await run("nc", ["-u", "-w1", "127.0.0.1", `${server.port}`], LINES);
  assert.equal(result.stdout, UPPER);
});

testWith("socat", "socat", "socat talks to tcp/server.ts line by line", async () => {
  await using server = await startServer("tcp/server.ts");
  const result = await run("socat", ["-", `TCP:127.0.0.1:${server.port}`], MANY_LINES);
  assert.equal(result.stdout, MANY_UPPER);
  assert.equal(result.code, 0);
});

testWith("socat", "socat", "socat talks to udp/server.ts", async () => {
  await using server = await startServer("udp/server.ts");
  const result = await run("socat", ["-t1", "-", `UDP:127.0.0.1:${server.port}`], LINES);
  assert.equal(result.stdout, UPPER);
});

const ipv6 = HAS_IPV6_LOOPBACK;
if (!ipv6) console.warn("skipping the IPv6 tests: this machine has no ::1");

for (const kind of ["udp", "tcp"]) {
  test(`${kind}/server.ts and ${kind}/client.ts work over IPv6 with --host ::1`, async () => {
    await using server = await startServer(`${kind}/server.ts`, ["--host", "::1"]);
    assert.match(server.announcement, new RegExp(`^listening on ${kind}://\\[::1\\]:\\d+$`));
    const args = ["--host", "::1", "--port", `${server.port}`];
    const result = await runScript(`${kind}/client.ts`, args, LINES);
    assert.equal(decode(result.stdout), UPPER);
    assert.equal(result.code, 0, result.stderr);
  }, !ipv6);
}

/** About `bytes` of Korean and English lines, and Python's `line.upper()` of each. */
async function koreanAndEnglish(
  bytes: number,
): Promise<{ input: Uint8Array; expected: Uint8Array }> {
  const words = [
    "hello",
    "world",
    "안녕하세요",
    "세계",
    "소켓",
    "통신",
    "socket",
    "straße",
    "deno",
  ];
  const random = randomSource(3);
  const lines: string[] = [];
  for (let size = 0; size < bytes;) {
    const line = Array.from({ length: 1 + random(20) }, () => words[random(words.length)]);
    lines.push(line.join(" "));
    size += encode(lines.at(-1)!).length + 1;
  }
  const dir = await Deno.makeTempDir();
  try {
    const input = encode(lines.join("\n") + "\n");
    await Deno.writeFile(`${dir}/in`, input);
    const oracle = ["tests/fixtures/oracle.py", "upper", `${dir}/in`, `${dir}/out`];
    const { code } = await new Deno.Command("python3", { args: oracle, cwd: ROOT }).output();
    assert.equal(code, 0);
    return { input, expected: await Deno.readFile(`${dir}/out`) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// TCP: many 64 KiB reads' worth, with replies coming back while the client still sends, lines
// cut across reads. UDP: a datagram and a round trip per line; a few thousand lines show that
// none is lost, doubled or reordered.
for (
  const [kind, bytes, size] of [["tcp", 3 << 20, "3 MiB"], ["udp", 300_000, "300 KB"]] as const
) {
  test(`${kind}/client.ts pipes ${size} of Korean and English lines exactly`, async () => {
    const { input, expected } = await koreanAndEnglish(bytes);
    await using server = await startServer(`${kind}/server.ts`);
    const result = await runScript(`${kind}/client.ts`, ["--port", `${server.port}`], input, {
      limitMs: 60_000,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.length, expected.length);
    assert.ok(result.stdout.every((byte, i) => byte === expected[i]), "output differs");
  });
}
