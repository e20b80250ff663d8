/**
 * The README is checked against the code it teaches:
 *
 * - Its code is real: each `ts` code block follows a `<!-- code: FILE -->` comment, and its
 *   lines (trimmed) are lines of FILE (trimmed), in order and one after another; a `// ...`
 *   line stands for lines left out.
 * - Its transcripts are real: each `console` code block under a
 *   `<!-- transcript: SERVER FLAGS -->` comment is run again against SERVER (started with FLAGS,
 *   e.g. `--trace` or `--drop=1`) on a free port, and its output must match; so must the
 *   server's stderr shown in a `text` code block under `<!-- server output -->`. SERVER is one
 *   of our servers or one of the post's Python servers in tests/fixtures. Port 5005 in the text
 *   stands for that port; a `deno run` of one of our scripts without `--port` gets it.
 * - Its `deno run` commands allow the network for the loopback address only, and its list of
 *   flags has every flag of every script's `--help`.
 */
import assert from "node:assert/strict";
import {
  decode,
  freePort,
  hasCommand,
  ROOT,
  startServer,
  test,
  waitUntil,
  withinOrFail,
} from "./helpers.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);

/** The line in a `ts` code block that stands for lines of the file left out. */
const ELISION = "// ...";

interface CodeBlock {
  /** The file named by the `<!-- code: FILE -->` comment before the block, if any. */
  file?: string;
  /** The block's lines. */
  lines: string[];
  /** Where the block starts in the README, for messages. */
  line: number;
}

function codeBlocks(): CodeBlock[] {
  const pattern = /(?:<!-- code: (\S+) -->\s*)?```(?:ts|typescript)\n([\s\S]*?)```/g;
  return [...README.matchAll(pattern)].map((match) => ({
    file: match[1],
    lines: match[2].split("\n"),
    line: README.slice(0, match.index).split("\n").length,
  }));
}

/**
 * Where `wanted` (trimmed lines) occurs in `lines` (trimmed, blank lines left out) as a run of
 * consecutive lines, at or after `from`; -1 if it does not.
 */
function findRun(lines: string[], wanted: string[], from: number): number {
  for (let at = from; at + wanted.length <= lines.length; at++) {
    if (wanted.every((line, i) => lines[at + i] === line)) return at;
  }
  return -1;
}

test("every ts block in the README names the file it quotes", () => {
  const blocks = codeBlocks();
  assert.ok(blocks.length >= 10, `found ${blocks.length} ts blocks`);
  for (const block of blocks) {
    assert.ok(
      block.file,
      `the ts block at README.md:${block.line} has no <!-- code: FILE --> comment before it`,
    );
  }
  // A comment that is not before a ts block (text in backticks only mentions one).
  const stray = README.match(/(?<!`)<!-- code: \S+ -->(?!\s*```(?:ts|typescript)\n)/g);
  assert.equal(stray, null, `a <!-- code: FILE --> comment is not before a ts block: ${stray}`);
});

for (const block of codeBlocks()) {
  test(`README.md:${block.line}: the ts block quotes ${block.file} line by line`, async () => {
    assert.ok(block.file, "no <!-- code: FILE --> comment before the block");
    const source = (await Deno.readTextFile(`${ROOT}${block.file}`)).split("\n")
      .map((line) => line.trim()).filter((line) => line !== "");
    // Runs of lines between `// ...` elisions: each must be in the file as it is, in order.
    const runs: string[][] = [[]];
    for (const line of block.lines.map((line) => line.trim()).filter((line) => line !== "")) {
      if (line === ELISION) runs.push([]);
      else runs.at(-1)!.push(line);
    }
    let from = 0;
    for (const run of runs.filter((run) => run.length > 0)) {
      const at = findRun(source, run, from);
      if (at === -1) {
        const missing = run.find((line) => !source.slice(from).includes(line));
        assert.fail(
          missing === undefined
            ? `these lines are not one after another in ${block.file} (or not in this ` +
              `order; mark left-out lines with "${ELISION}"):\n${run.join("\n")}`
            : `not a line of ${block.file} (after the lines before it): ${missing}`,
        );
      }
      from = at + run.length;
    }
  });
}

test("every deno run in the README allows the network for the loopback address only", () => {
  const commands = README.split("\n").filter((line) => /\bdeno(?:@[\d.]+)? run\b/.test(line));
  assert.ok(commands.length >= 10, `found ${commands.length} deno run commands`);
  for (const command of commands) {
    const allowed = [...command.matchAll(/--allow-net(=[^\s`]+)?/g)]
      .map((match) => match[1]?.replaceAll("'", ""));
    for (const value of allowed) {
      assert.ok(
        value === "=127.0.0.1" || value === "=[::1]",
        `not --allow-net=127.0.0.1 or --allow-net='[::1]': ${command}`,
      );
    }
  }
});

test("the README names one Deno version to install, with npm and with npx", () => {
  // .ci/run checks the npx commands against the version it pins; this keeps the rest with them
  // (`deno@...` in prose names no version).
  const versions = new Set(
    [...README.matchAll(/\bdeno@(?!\.\.\.)([\w.-]+)/g)].map((match) => match[1]),
  );
  assert.ok(/npm install -g deno@/.test(README), "no npm install -g deno@VERSION");
  assert.ok(/npx -y deno@/.test(README), "no npx -y deno@VERSION");
  assert.equal(versions.size, 1, `the README names deno@${[...versions].join(", deno@")}`);
});

test("the README's list of flags has every flag of every script's --help", async () => {
  const section = README.match(/^### Flags[\s\S]*?(?=^## )/m)?.[0];
  assert.ok(section, "no ### Flags section");
  for (const script of ["udp/server.ts", "udp/client.ts", "tcp/server.ts", "tcp/client.ts"]) {
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", script, "--help"],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(code, 0);
    const help = decode(stdout);
    assert.match(help, new RegExp(`^usage: deno run --allow-net=127\\.0\\.0\\.1 ${script} `, "m"));
    // Each script's flags are listed under its name, or under "All four scripts".
    const own = section.split(/^`(\S+)`:$/m);
    const listed = own[0] + (own[own.indexOf(script) + 1] ?? "");
    assert.ok(own.includes(script), `no list of ${script}'s flags`);
    for (const [flag] of help.matchAll(/^ {2}(?:-h, )?--[\w-]+(?: [A-Z]+)?/gm)) {
      const item = flag.trim().replace(/^-h, /, "");
      assert.ok(listed.includes(`\`${item}\``), `${script} ${item} is not listed under it`);
    }
  }
});

interface Step {
  command: string;
  expected: string;
}

interface Transcript {
  server: string;
  serverArgs: string[];
  steps: Step[];
  /** What the server printed on stderr, when the README shows it (the server's --trace). */
  serverOutput?: string;
}

function transcripts(): Transcript[] {
  const found: Transcript[] = [];
  // The server's flags: `--trace`, or with a value, `--drop=1`.
  const pattern = new RegExp(
    "<!-- transcript: (\\S+)((?: --[\\w-]+(?:=[^\\s>]+)?)*) -->\\s*```console\\n([\\s\\S]*?)```" +
      "(?:\\s*<!-- server output -->\\s*```text\\n([\\s\\S]*?)```)?",
    "g",
  );
  for (const [, server, serverArgs, body, serverOutput] of README.matchAll(pattern)) {
    const steps: Step[] = [];
    for (const line of body.split("\n")) {
      if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: "" });
      else if (steps.length > 0 && line !== "") steps.at(-1)!.expected += line + "\n";
    }
    found.push({
      server,
      serverArgs: serverArgs.trim().split(" ").filter(Boolean),
      steps,
      serverOutput,
    });
  }
  return found;
}

function forPort(text: string, port: number): string {
  return text.replaceAll(/\b5005\b/g, `${port}`);
}

/**
 * Ports as the README writes them: the server's as 5005, and each other (ephemeral) port as
 * 40001, 40002, ... in the order they first appear, so the same client port reads the same in
 * the client's and the server's output.
 */
function portNormalizer(serverPort: number): (text: string) => string {
  const names = new Map<string, string>([["5005", "5005"]]);
  return (text) =>
    text.replaceAll(new RegExp(`\\b${serverPort}\\b`, "g"), "5005").replaceAll(
      /(?<=(?:127\.0\.0\.1|0\.0\.0\.0|\]):)\d{4,5}\b/g,
      (port) => {
        if (!names.has(port)) names.set(port, `${40000 + names.size}`);
        return names.get(port)!;
      },
    );
}

/** The command as a test runs it: this Deno, the server's real port. */
function localCommand(command: string, port: number): string {
  return forPort(command, port).replaceAll(
    /\bdeno run ((?:--[\w-]+(?:=\S+)? )*)((?:udp|tcp)\/(?:server|client)\.ts)(?!.*--port)/g,
    `"${Deno.execPath()}" run $1$2 --port ${port}`,
  ).replaceAll(/\bdeno run\b/g, `"${Deno.execPath()}" run`);
}

/** A server a transcript runs against: ours, or one of the post's Python servers. */
interface TranscriptServer {
  port: number;
  stderr(): string;
  stop(signal?: Deno.Signal): Promise<unknown>;
}

const PYTHON_SERVER = /^tests\/fixtures\/(?:udp|tcp)_server\.py$/;

/**
 * One of the post's Python servers on a free port. It announces nothing, and the TCP one
 * accepts a single connection, so readiness is polled by binding its port, never connecting.
 */
async function startPythonServer(script: string): Promise<TranscriptServer> {
  const udp = script.includes("udp");
  const port = freePort();
  const child = new Deno.Command("python3", {
    args: [script, "127.0.0.1", `${port}`],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reading = new Response(child.stderr).text().then((text) => stderr = text);
  const server: TranscriptServer = {
    port,
    stderr: () => stderr,
    async stop(signal = "SIGKILL") {
      try {
        child.kill(signal);
      } catch {
        // already exited (the TCP server exits after its one client)
      }
      await child.status;
      return await reading;
    },
  };
  /** True once the port is taken: the server has bound it. */
  const bound = () => {
    try {
      if (udp) Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" }).close();
      else Deno.listen({ hostname: "127.0.0.1", port }).close();
      return false;
    } catch {
      return true;
    }
  };
  try {
    await waitUntil(bound, `${script} to bind port ${port}`);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

test("the README has transcripts for both servers, nc, socat, errors and the UDP flags", () => {
  const all = transcripts();
  assert.ok(all.length >= 10, `found ${all.length} transcripts`);
  const commands = all.flatMap((t) => t.steps.map((s) => s.command)).join("\n");
  for (const needed of ["udp/client.ts", "tcp/client.ts", "nc -N", "nc -u", "socat", "python3"]) {
    assert.ok(commands.includes(needed), `no transcript runs ${needed}`);
  }
  const servers = all.map((t) => [t.server, ...t.serverArgs].join(" "));
  for (const needed of ["--drop=1", "--duplicate=1", "tests/fixtures/tcp_server.py"]) {
    assert.ok(servers.some((s) => s.includes(needed)), `no transcript runs a server ${needed}`);
  }
});

for (const [index, transcript] of transcripts().entries()) {
  const tools = transcript.steps.map((step) => step.command.split(" | ").at(-1)!.split(" ")[0]);
  if (PYTHON_SERVER.test(transcript.server)) tools.push("python3");
  const missing = tools.filter((tool) => tool !== "deno" && !hasCommand(tool));
  const name = `README transcript ${index + 1} (${
    [transcript.server, ...transcript.serverArgs].join(" ")
  }: ${tools.join(", ")})`;
  if (missing.length > 0) console.warn(`skipping ${name}: ${missing.join(", ")} not installed`);
  Deno.test({
    name,
    ignore: missing.length > 0,
    fn: async () => {
      const server: TranscriptServer = PYTHON_SERVER.test(transcript.server)
        ? await startPythonServer(transcript.server)
        : await startServer(transcript.server, transcript.serverArgs);
      const normalize = portNormalizer(server.port);
      try {
        for (const step of transcript.steps) {
          const command = new Deno.Command("bash", {
            args: ["-c", `{ ${localCommand(step.command, server.port)}; } 2>&1`],
            cwd: ROOT,
            stdin: "null",
            env: { NO_COLOR: "1" },
          });
          const { stdout } = await withinOrFail(command.output(), 30_000, step.command);
          assert.equal(
            normalize(decode(stdout)).trimEnd(),
            step.expected.trimEnd(),
            `$ ${step.command}`,
          );
        }
        if (transcript.serverOutput !== undefined) {
          // Let the server finish with the last client (every line before the Ctrl-C ones is
          // there), then Ctrl-C, as a reader ends it.
          const expected = transcript.serverOutput.trimEnd().split("\n");
          const ctrlC = expected.findIndex((line) => line.includes("on Ctrl-C/SIGTERM"));
          const before = ctrlC === -1 ? expected.length : ctrlC;
          await waitUntil(
            () => server.stderr().trimEnd().split("\n").length >= before,
            `the server's first ${before} of the README's ${expected.length} lines`,
          ).catch((error) => assert.fail(`${error.message}; it printed:\n${server.stderr()}`));
          await server.stop("SIGINT");
          assert.equal(normalize(server.stderr()).trimEnd(), transcript.serverOutput.trimEnd());
        }
      } finally {
        await server.stop();
      }
    },
  });
}
