import assert from "node:assert/strict";
import {
  atPrompts,
  connect,
  decode,
  denoRun,
  encode,
  freePort,
  onTerminal,
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

for (const kind of ["udp", "tcp"] as const) {
  const script = `${kind}/server.ts`;
  test(`${script} announces its address and port on its first line`, async () => {
    await using server = await startServer(script);
    assert.match(server.announcement, new RegExp(`^listening on ${kind}://127\\.0\\.0\\.1:\\d+$`));
  });

  test(`${script} names a port in use and suggests --port, exit 1`, async () => {
    await using first = await startServer(script);
    const result = await runScript(script, ["--port", `${first.port}`]);
    assert.equal(result.code, 1);
    assertOneLine(
      result.stderr,
      new RegExp(`error: port ${first.port} on 127.0.0.1 is already in use.*--port$`),
    );
  });

  test(`${script} exits 0 on Ctrl-C, saying nothing`, async () => {
    await using server = await startServer(script);
    server.child.kill("SIGINT");
    const status = await withinOrFail(server.exited(), WAIT_LIMIT_MS, "no exit after SIGINT");
    assert.equal(status.code, 0);
    assert.equal(server.stderr(), "");
  });
}

test("tcp/server closes open connections on Ctrl-C and exits 0", async () => {
  await using server = await startServer("tcp/server.ts");
  using conn = await connect(server.port);
  await writeAll(conn, encode("before"));
  assert.equal(decode(await readBytes(conn, 6)), "BEFORE");
  server.child.kill("SIGINT");
  // The server ends the connection: reading ends. Once we close our side too, it exits
  // without waiting out its --grace of 2 s.
  const end = await withinOrFail(readBytes(conn, 1), WAIT_LIMIT_MS, "connection not ended");
  assert.equal(end.length, 0);
  conn.close();
  const status = await withinOrFail(server.exited(), 1_500, "no exit once the client left");
  assert.equal(status.code, 0);
});

test("tcp/client reports a refused connection in one line, exit 1", async () => {
  const port = freePort();
  const result = await runScript("tcp/client.ts", ["--port", `${port}`], "hi\n");
  assert.equal(result.code, 1);
  assertOneLine(result.stderr, new RegExp(`error: connection refused by 127.0.0.1:${port}`));
});

/**
 * Runs a client on a terminal, types `lines` at its prompts, then Ctrl-D at the next one, and
 * returns everything the terminal showed.
 */
async function typedAtPrompts(
  script: string,
  port: number,
  lines: string[],
  flags: string[] = [],
): Promise<string> {
  const command = [Deno.execPath(), ...denoRun(script, ["--port", `${port}`, ...flags])];
  const steps = [...atPrompts(lines), { expect: "->" }, { type: "\x04" }];
  return (await onTerminal(command, steps)).screen;
}

test("udp/client on a terminal: a lost reply's lines come between the prompts, none blank", async () => {
  using silent = udpSocket();
  const screen = await typedAtPrompts("udp/client.ts", silent.port, ["hello"], [
    "--timeout",
    "0.2",
  ]);
  assert.equal(
    screen,
    "->hello\n[udp/client] line 1: no reply within 0.2 s (UDP does not resend lost datagrams)\n" +
      `->\n[udp/client] error: 1 of 1 line(s) got no reply from 127.0.0.1:${silent.port} within 0.2 s: ` +
      "lost on the way, or no UDP server is running there\n",
  );
});

for (const kind of ["udp", "tcp"] as const) {
  test(`${kind}/client.ts on a terminal prompts with -> and stops at Ctrl-D`, async () => {
    await using server = await startServer(`${kind}/server.ts`);
    const screen = await typedAtPrompts(`${kind}/client.ts`, server.port, ["hello", "안녕 ß"]);
    // What the user typed is echoed by the terminal; each reply follows on its own line.
    assert.equal(screen, "->hello\nHELLO\n->안녕 ß\n안녕 SS\n->\n");
  });
}
