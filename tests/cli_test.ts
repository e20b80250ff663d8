import assert from "node:assert/strict";
import {
  decode,
  denoRun,
  encode,
  freePort,
  PTY_DRIVER,
  readBytes,
  ROOT,
  runScript,
  startServer,
  test,
  withinOrFail,
  writeAll,
} from "./helpers.ts";

const SCRIPTS = ["udp/server.ts", "udp/client.ts", "tcp/server.ts", "tcp/client.ts"];
const SERVERS = ["udp/server.ts", "tcp/server.ts"];
const LIMIT_MS = 10_000;

/** One line on stderr, no stack trace: what every failure must look like. */
function assertOneLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0], pattern);
}

for (const script of SCRIPTS) {
  test(`${script} --help lists --host and --port and exits 0`, async () => {
    const result = await runScript(script, ["--help"]);
    assert.equal(result.code, 0);
    assert.match(decode(result.stdout), /--host ADDRESS[\s\S]*--port PORT[\s\S]*--help/);
  });

  test(`${script} rejects an unknown flag in one line, exit 2`, async () => {
    const result = await runScript(script, ["--bogus"]);
    assert.equal(result.code, 2);
    assertOneLine(result.stderr, /error: unknown option --bogus \(see --help\)$/);
  });

  test(`${script} asks for a value when a flag has none, exit 2`, async () => {
    for (const args of [["--port"], ["--host", "-x"], ["--host"]]) {
      const result = await runScript(script, args);
      assert.equal(result.code, 2, args.join(" "));
      assertOneLine(result.stderr, /error: --(port|host) needs .*\(see --help\)$/);
    }
  });

  test(`${script} rejects a bad port in one line, exit 2`, async () => {
    for (const port of ["65536", "http", "-1", "", "5005.5"]) {
      const result = await runScript(script, [`--port=${port}`]);
      assert.equal(result.code, 2, `--port ${port}`);
      assertOneLine(result.stderr, /error: --port must be a whole number from [01] to 65535/);
    }
    // Written apart, a negative port is still a port, refused for its range.
    const result = await runScript(script, ["--port", "-1"]);
    assert.equal(result.code, 2);
    assertOneLine(
      result.stderr,
      /error: --port must be a whole number from [01] to 65535, not "-1"/,
    );
  });

  test(`${script} without --allow-net says how to run it, exit 1`, async () => {
    const result = await runScript(script, ["--port", "5005"], "", { flags: [] });
    assert.equal(result.code, 1);
    // The hint grants only the address asked for, and repeats the user's own flags.
    const hint = `run it as deno run --allow-net=127.0.0.1 ${script} --port 5005$`;
    assertOneLine(result.stderr, new RegExp(hint));
  });
}

for (const script of SERVERS) {
  test(`${script} names a port in use and suggests --port, exit 1`, async () => {
    const first = await startServer(script);
    try {
      const result = await runScript(script, ["--port", `${first.port}`]);
      assert.equal(result.code, 1);
      assertOneLine(
        result.stderr,
        new RegExp(`error: port ${first.port} on 127.0.0.1 is already in use.*--port$`),
      );
    } finally {
      await first.stop();
    }
  });

  test(`${script} exits 0 on Ctrl-C, saying nothing`, async () => {
    const server = await startServer(script);
    server.child.kill("SIGINT");
    const status = await withinOrFail(server.exited(), LIMIT_MS, "no exit after SIGINT");
    assert.equal(status.code, 0);
    assert.equal(server.stderr(), "");
  });
}

test("tcp/server closes open connections on Ctrl-C and exits 0", async () => {
  const server = await startServer("tcp/server.ts");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await writeAll(conn, encode("before"));
    assert.equal(decode(await readBytes(conn, 6)), "BEFORE");
    server.child.kill("SIGINT");
    // The server ends the connection: reading ends. Once we close our side too, it exits
    // without waiting out its --grace of 2 s.
    const end = await withinOrFail(readBytes(conn, 1), LIMIT_MS, "connection not ended");
    assert.equal(end.length, 0);
    conn.close();
    const status = await withinOrFail(server.exited(), 1_500, "no exit once the client left");
    assert.equal(status.code, 0);
  } finally {
    try {
      conn.close();
    } catch {
      // closed above
    }
    await server.stop();
  }
});

test("tcp/client reports a refused connection in one line, exit 1", async () => {
  const port = freePort();
  const result = await runScript("tcp/client.ts", ["--port", `${port}`], "hi\n");
  assert.equal(result.code, 1);
  assertOneLine(result.stderr, new RegExp(`error: connection refused by 127.0.0.1:${port}`));
});

/**
 * Runs a client on a terminal (a pseudo-terminal made by Python's pty module), types `lines`,
 * then Ctrl-D, and returns everything the terminal showed.
 */
async function onTerminal(
  script: string,
  port: number,
  lines: string[],
  flags: string[] = [],
): Promise<string> {
  const driver = PTY_DRIVER + `
for line in ${JSON.stringify(lines)}:
    read_until(b"->")
    out = out.replace(b"->", b"<prompt>", 1)
    os.write(fd, line.encode() + b"\\n")
read_until(b"->")
os.write(fd, b"\\x04")
read_until(b"<never>", 10)
os.waitpid(pid, 0)
sys.stdout.buffer.write(out.replace(b"<prompt>", b"->"))
`;
  const args = ["-c", driver, Deno.execPath(), ...denoRun(script, ["--port", `${port}`, ...flags])];
  const command = new Deno.Command("python3", { args, cwd: ROOT, env: { NO_COLOR: "1" } });
  const { stdout } = await withinOrFail(command.output(), 30_000, "terminal session hung");
  return decode(stdout).replaceAll("\r\n", "\n");
}

test("udp/client on a terminal: a lost reply's lines come between the prompts, none blank", async () => {
  const silent = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const port = (silent.addr as Deno.NetAddr).port;
  try {
    const screen = await onTerminal("udp/client.ts", port, ["hello"], ["--timeout", "0.2"]);
    assert.equal(
      screen,
      "->hello\n[udp/client] line 1: no reply within 0.2 s (UDP does not resend lost datagrams)\n" +
        `->\n[udp/client] error: 1 of 1 line(s) got no reply from 127.0.0.1:${port} within 0.2 s: ` +
        "lost on the way, or no UDP server is running there\n",
    );
  } finally {
    silent.close();
  }
});

for (
  const [client, server] of [["udp/client.ts", "udp/server.ts"], ["tcp/client.ts", "tcp/server.ts"]]
) {
  test(`${client} on a terminal prompts with -> and stops at Ctrl-D`, async () => {
    const running = await startServer(server);
    try {
      const screen = await onTerminal(client, running.port, ["hello", "안녕 ß"]);
      // What the user typed is echoed by the terminal; each reply follows on its own line.
      assert.equal(screen, "->hello\nHELLO\n->안녕 ß\n안녕 SS\n->\n");
    } finally {
      await running.stop();
    }
  });
}
