/**
 * The clients under the faults of issue #16, each with real processes and real sockets: a line
 * longer than both send queues, standard input that cannot be read, standard output that cannot
 * be written, Ctrl-C and SIGTERM while a reply is owed, a server that stops while the client waits
 * at its prompt, and piped lines to a UDP port where no server runs.
 */
import assert from "node:assert/strict";
import {
  atPrompts,
  decode,
  denoRun,
  encode,
  fakeTcpServer,
  onTerminal,
  ROOT,
  runScript,
  spawnScript,
  START_LIMIT_MS,
  startServer,
  test,
  udpSocket,
  WAIT_LIMIT_MS,
  withinOrFail,
} from "./helpers.ts";

/** Runs `deno run --allow-net=127.0.0.1 SCRIPT ARGS` through sh, with `redirects` after it. */
async function runWithRedirects(script: string, args: string[], redirects: string) {
  const command = [Deno.execPath(), ...denoRun(script, args, ["--allow-net=127.0.0.1"])]
    .map((word) => `'${word}'`).join(" ");
  const child = new Deno.Command("sh", {
    args: ["-c", `${command} ${redirects}`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  // It fails as it starts, or at its first write.
  const { code, stderr } = await withinOrFail(child.output(), START_LIMIT_MS, `${script} hung`);
  return { code, stderr: decode(stderr) };
}

for (const mode of [[], ["--line-by-line"]]) {
  test(`tcp/client ${mode.join(" ")} sends a 12 MB line while it reads its reply`, async () => {
    await using server = await startServer("tcp/server.ts");
    const line = "a".repeat(12_000_000);
    const args = ["--port", `${server.port}`, "--timeout", "10", ...mode];
    const result = await runScript("tcp/client.ts", args, line + "\n");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.length, 12_000_001);
    assert.ok(result.stdout.every((byte, i) => byte === (i < 12_000_000 ? 0x41 : 0x0a)));
  });
}

for (
  const [client, extra] of [["tcp/client.ts", []], ["tcp/client.ts", ["--line-by-line"]], [
    "udp/client.ts",
    [],
  ]] as const
) {
  const name = `${client} ${extra.join(" ")}`.trim();
  test(`${name} names standard input when it cannot be read, exit 1`, async () => {
    await using server = await startServer(client.replace("client", "server"));
    const result = await runWithRedirects(client, ["--port", `${server.port}`, ...extra], "< /");
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^\[(tcp|udp)\/client\] error: cannot read standard input: Is a directory \(os error 21\)\n$/,
    );
  });

  test(`${name} names standard output when it cannot be written, exit 1`, async () => {
    await using server = await startServer(client.replace("client", "server"));
    const args = ["--port", `${server.port}`, ...extra];
    const result = await runWithRedirects(client, args, "> /dev/full < /etc/passwd");
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /\] error: cannot write standard output: No space left on device \(os error 28\)\n$/,
    );
  });
}

for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  test(`both clients exit ${status} on ${signal} while a reply is owed, saying so`, async () => {
    for (const kind of ["tcp", "udp"]) {
      // A server that hears the line and never answers.
      await using tcp = kind === "tcp" ? fakeTcpServer() : undefined;
      using udp = kind === "udp" ? udpSocket() : undefined;
      const port = tcp?.port ?? udp!.port;
      const child = spawnScript(`${kind}/client.ts`, ["--port", `${port}`, "--timeout", "60"]);
      const writer = child.stdin.getWriter();
      try {
        await writer.write(encode("hello\n")); // stdin stays open: the client still reads it
        await withinOrFail<unknown>(
          tcp?.heard ?? udp!.receive(),
          START_LIMIT_MS,
          "the line never came",
        );
        child.kill(signal);
        const { code, stderr } = await withinOrFail(child.output(), WAIT_LIMIT_MS, "no exit");
        assert.equal(code, status, kind);
        assert.match(decode(stderr), /\] error: interrupted: 0 of 1 line\(s\) answered\n$/, kind);
      } finally {
        await writer.close().catch(() => {});
      }
    }
  });
}

test("tcp/client at a terminal sees the server stop while it waits at the prompt", async () => {
  await using server = await startServer("tcp/server.ts", ["--grace", "10"]);
  // Type one line, see its reply and the next prompt, stop the server, read until the client ends.
  const command = [Deno.execPath(), ...denoRun("tcp/client.ts", ["--port", `${server.port}`])];
  const steps = [...atPrompts(["hello"]), { expect: "HELLO\r\n->" }, { pause: true as const }];
  const { code, screen } = await onTerminal(command, steps, {
    whilePaused: async () => {
      server.child.kill("SIGINT");
      const status = await withinOrFail(
        server.exited(),
        5_000,
        "the server waited out its --grace",
      );
      assert.equal(status.code, 0);
    },
  });
  assert.match(
    screen,
    // On a line of its own, below the prompt it came at.
    /->\n\[tcp\/client\] error: the server at 127\.0\.0\.1:\d+ closed the connection \(1 of 1 line\(s\) answered\)\n/,
  );
  assert.equal(code, 1, screen);
});

test("udp/client with piped lines and no server stops after --give-up lines in a row", async () => {
  using silent = udpSocket();
  const port = silent.port;
  let received = 0; // the lines that reached the silent "server"
  const counting = (async () => {
    for await (const _ of silent) received++;
  })().catch(() => {}); // ends when the socket is closed
  try {
    for (
      const [giveUp, args] of [[5, []], [2, ["--give-up", "2"]], [1, ["--give-up", "1"]]] as const
    ) {
      received = 0;
      const started = Date.now();
      const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join("");
      const flags = ["--port", `${port}`, "--timeout", "0.3", ...args];
      const result = await runScript("udp/client.ts", flags, lines);
      const took = Date.now() - started;
      assert.equal(result.code, 1);
      const stderr = result.stderr.trimEnd().split("\n");
      assert.equal(stderr.length, giveUp + 1, result.stderr); // one warning per line, then why it stopped
      const inARow = giveUp === 1 ? "1 line" : `${giveUp} lines`;
      assert.equal(
        stderr.at(-1),
        `[udp/client] error: ${inARow} in a row got no reply from 127.0.0.1:${port} within ` +
          `0.3 s; stopped (--give-up ${giveUp}): is a UDP server running there?`,
      );
      assert.ok(took < 40 * 300, `took ${took} ms: a timeout per line`);
      // The 32 lines in flight at once, and none after the first went unanswered.
      assert.equal(received, 32);
    }
  } finally {
    silent.close(); // the count ends
    await counting;
  }
});

test("tcp/client takes --timeout 0 (wait, its default) and .5", async () => {
  await using server = await startServer("tcp/server.ts");
  for (const timeout of ["0", ".5"]) {
    const args = ["--port", `${server.port}`, "--timeout", timeout];
    const result = await runScript("tcp/client.ts", args, "ok\n");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(decode(result.stdout), "OK\n");
  }
});
