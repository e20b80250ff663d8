/**
 * How the scripts end (issue #24): Ctrl-C while a TCP connect is pending, the same IPv6 address
 * spelled two ways, a UDP server run as its own permission hint says, the warning of an exposed
 * UDP server, the frame's one line (and a stack trace for a bug), drop and duplicate as trace
 * events of their own, and the demo's flags refused in the scripts' words.
 */
import assert from "node:assert/strict";
import {
  collectOutput,
  decode,
  encode,
  HAS_IPV6_LOOPBACK,
  hasCommand,
  ROOT,
  runDemo,
  runScript,
  spawnScript,
  START_LIMIT_MS,
  startServer,
  test,
  udpSocket,
  WAIT_LIMIT_MS,
  withinOrFail,
} from "./helpers.ts";

/**
 * A TCP listener (Python's, for `listen(0)`) whose accept queue is full: it never accepts, so a
 * further connect gets no answer to its SYN and waits. `connecting` resolves once a socket of
 * this machine waits so (SYN_SENT in /proc/net/tcp) for its port. `await using` ends it.
 */
async function fullListener(): Promise<
  AsyncDisposable & { port: number; connecting: Promise<string> }
> {
  const fill = `
import socket, sys, time
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(0)
port = listener.getsockname()[1]
queued = []
while True:  # connect until one hangs: the queue is full; that one is given up
    client = socket.socket()
    client.settimeout(0.2)
    try:
        client.connect(("127.0.0.1", port))
        queued.append(client)
    except OSError:
        client.close()
        break
print(port, flush=True)
remote = "0100007F:%04X" % port
while not any(row.split()[2:4] == [remote, "02"] for row in open("/proc/net/tcp")):
    time.sleep(0.01)  # (no event says that a SYN went unanswered)
print("connecting", flush=True)
sys.stdin.read()  # until the test closes stdin
`;
  const python = new Deno.Command("python3", {
    args: ["-c", fill],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const stdout = collectOutput(python.stdout);
  const port = Number(await stdout.waitFor(/^\d+$/, START_LIMIT_MS));
  return {
    port,
    connecting: stdout.waitFor(/^connecting$/, START_LIMIT_MS),
    async [Symbol.asyncDispose]() {
      await python.stdin.close().catch(() => {});
      await python.status;
      await stdout.done;
    },
  };
}

const noPython = !hasCommand("python3");
if (noPython) console.warn("skipping the pending-connect tests: python3 not found");

for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  test(
    `tcp/client: one ${signal} while its connect is pending exits ${status} at once`,
    async () => {
      await using listener = await fullListener();
      const child = spawnScript("tcp/client.ts", ["--port", `${listener.port}`]);
      const writer = child.stdin.getWriter(); // stdin stays open: the client waits on the connect
      try {
        // Nothing is printed before the connect, not even with --trace: its SYN is the signal.
        await listener.connecting;
        child.kill(signal);
        const { code } = await withinOrFail(
          child.output(),
          2_000,
          `one ${signal} did not end the pending connect`,
        );
        assert.equal(code, status);
      } finally {
        try {
          child.kill("SIGKILL");
        } catch { /* it has exited */ }
        await child.status;
        await writer.close().catch(() => {});
      }
    },
    noPython,
  );
}

const ipv6 = HAS_IPV6_LOOPBACK;
if (!ipv6) console.warn("skipping the 0:0:0:0:0:0:0:1 test: this machine has no ::1");

test("a client at --host 0:0:0:0:0:0:0:1 reaches the server at --host ::1", async () => {
  for (const kind of ["udp", "tcp"]) {
    const flags = ["--allow-net=[::1]"];
    await using server = await startServer(`${kind}/server.ts`, ["--host", "::1"], flags);
    const args = ["--host", "0:0:0:0:0:0:0:1", "--port", `${server.port}`, "--timeout", "5"];
    const result = await runScript(`${kind}/client.ts`, args, "same\n", { flags });
    assert.doesNotMatch(result.stderr, /ignored a datagram/, kind);
    assert.equal(result.stderr, "", kind);
    assert.equal(decode(result.stdout), "SAME\n", kind);
    assert.equal(result.code, 0, kind);
  }
}, !ipv6);

test("a client at --host 0.0.0.0 (this machine) takes the server's reply from 127.0.0.1", async () => {
  for (const kind of ["udp", "tcp"]) {
    await using server = await startServer(`${kind}/server.ts`, ["--host", "0.0.0.0"]);
    const args = ["--host", "0.0.0.0", "--port", `${server.port}`, "--timeout", "5"];
    const result = await runScript(`${kind}/client.ts`, args, "this machine\n");
    assert.doesNotMatch(result.stderr, /ignored a datagram/, kind);
    assert.equal(decode(result.stdout), "THIS MACHINE\n", kind);
    assert.equal(result.code, 0, `${kind}: ${result.stderr}`);
  }
});

/** The `--allow-net` flag of a permission hint: `run it as deno run FLAG udp/server.ts ARGS`. */
function hintedFlag(stderr: string, args: string[]): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, stderr);
  const command = ` udp/server\\.ts ${args.join(" ")}$`;
  const hint = new RegExp(
    `^\\[udp/server\\] error: no network permission for .+: run it as deno run (.+)${command}`,
  );
  const flag = lines[0].match(hint)?.[1];
  assert.ok(flag, `no hint in: ${lines[0]}`);
  return flag.replace(/^'(.*)'$/, "$1"); // quoted for a shell where it holds brackets
}

test("a UDP server run as its permission hint says answers a client on 127.0.0.1", async () => {
  for (const host of ["localhost", "0.0.0.0"]) {
    const args = ["--host", host, "--port", "0"];
    const refused = await runScript("udp/server.ts", args, "", {
      flags: ["--allow-net=127.0.0.1"],
    });
    assert.equal(refused.code, 1, host);
    const flag = hintedFlag(refused.stderr, args);
    // Any client may write to 0.0.0.0: its replies need the whole network.
    if (host === "0.0.0.0") assert.equal(flag, "--allow-net");
    else assert.match(flag, /^--allow-net=/);
    await using server = await startServer("udp/server.ts", ["--host", host], [flag]);
    const client = ["--host", "127.0.0.1", "--port", `${server.port}`, "--timeout", "5"];
    const result = await runScript("udp/client.ts", client, "hi\n", {
      flags: ["--allow-net=127.0.0.1"],
    });
    assert.equal(result.stderr, "", `${host}, run with ${flag}`);
    assert.equal(decode(result.stdout), "HI\n", host);
    assert.equal(result.code, 0, host);
    assert.doesNotMatch(server.stderr(), /Requires net access/, host);
  }
});

test("udp/server --help says another address needs plain --allow-net", async () => {
  const help = decode((await runScript("udp/server.ts", ["--help"])).stdout);
  assert.match(help, /for another address: --allow-net, as its replies go to any client's address/);
  assert.doesNotMatch(help, /--allow-net=HOST/);
});

test("an exposed UDP server warns that a reply can be 3× its request; TCP does not", async () => {
  for (const kind of ["udp", "tcp"]) {
    await using server = await startServer(`${kind}/server.ts`, ["--host", "0.0.0.0"]);
    const warning = await server.waitForLog(/warning: 0\.0\.0\.0:\d+ can be reached/);
    const amplifies = /a reply can be 3× its request: keep it on a trusted network/;
    if (kind === "udp") assert.match(warning, amplifies);
    else assert.doesNotMatch(warning, /3×|trusted/);
  }
});

test("the frame: a bug gets its one line, exit 1, then its stack; a known failure one line", async () => {
  const dir = await Deno.makeTempDir();
  const start = new URL("../shared/start.ts", import.meta.url).href;
  const frame = `import { start } from "${start}";
start({ path: "x.ts", role: "server", summary: "x", flags: {} });
`;
  try {
    for (
      const [name, ending] of [
        ["throws", 'throw new Error("boom");'],
        ["rejects", 'Promise.reject(new Error("boom"));'],
        ["fails", 'throw new Deno.errors.ConnectionRefused("refused");'],
      ]
    ) {
      const file = `${dir}/${name}.ts`;
      await Deno.writeTextFile(file, frame + ending + "\n");
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-net", file],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        stdin: "null",
      }).output();
      assert.equal(code, 1, name);
      const lines = decode(stderr).trimEnd().split("\n");
      if (name === "fails") {
        // A failure the scripts know: one line, what to do, no stack.
        assert.deepEqual(lines, [
          "[x] error: connection refused by 127.0.0.1:5005: is the server running there?",
        ]);
        continue;
      }
      assert.equal(lines[0], "[x] error: boom", name);
      assert.ok(
        lines.slice(1).some((line) => /^\s+at /.test(line)),
        `${name}: no stack:\n${lines}`,
      );
      assert.ok(lines.some((line) => line.includes(`${name}.ts:3:`)), `${name}: where it was`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("udp/server --quiet --trace-json shows a drop and a duplicate as events of their own", async () => {
  for (const call of ["drop", "duplicate"]) {
    await using server = await startServer("udp/server.ts", [
      `--${call}`,
      "1",
      "--quiet",
      "--trace-json",
    ]);
    using socket = udpSocket();
    await socket.sendTo(encode("hi"), server.port);
    const event = JSON.parse(await server.waitForLog(new RegExp(`"call":"${call}"`)));
    assert.equal(event.peer, `127.0.0.1:${socket.port}`, call);
    assert.equal(atob(event.data), "HI", call);
    if (call === "duplicate") {
      for (let copy = 0; copy < 2; copy++) {
        const [reply] = await withinOrFail(socket.receive(), WAIT_LIMIT_MS, `copy ${copy + 1}`);
        assert.equal(decode(reply), "HI");
      }
    }
    await server.stop();
    // Every line an event, and --quiet kept the log line out.
    const events = server.stderr().trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(events.filter((e) => e.call === "log"), [], call);
    assert.equal(events.filter((e) => e.call === call).length, 1, call);
  }
});

test("the demo refuses a bad --drop or --recv-size in the scripts' own words, exit 2", async () => {
  const bad = [
    ["--drop", "-1", "a probability from 0 to 1"],
    ["--recv-size", "0", "a whole number from 1 to 65536"],
  ];
  for (const [flag, value, mustBe] of bad) {
    const script = await runScript("udp/server.ts", [flag, value]);
    assert.equal(script.code, 2);
    const words = script.stderr.trimEnd().replace(/^\[udp\/server\] error: /, "");
    assert.equal(words, `${flag} must be ${mustBe}, not "${value}" (see --help)`);
    const demo = await runDemo(["udp", flag, value]);
    assert.equal(demo.code, 2, `${flag} ${value}`);
    assert.equal(demo.stderr, `error: ${words}\n`);
  }
});
