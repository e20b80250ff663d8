/**
 * The README's transcripts are real: each ```console block under a `<!-- transcript: SERVER -->`
 * comment is run again against SERVER on a free port, and its output must match. Port 5005 in
 * the text stands for that port; a `deno run` of one of our scripts without `--port` gets it.
 */
import assert from "node:assert/strict";
import { decode, hasCommand, ROOT, startServer, waitUntil, withinOrFail } from "./helpers.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);

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
  const pattern = new RegExp(
    "<!-- transcript: (\\S+)((?: --[\\w-]+)*) -->\\s*```console\\n([\\s\\S]*?)```" +
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
    /\bdeno run ((?:--[\w-]+ )*)((?:udp|tcp)\/(?:server|client)\.ts)(?!.*--port)/g,
    `"${Deno.execPath()}" run $1$2 --port ${port}`,
  ).replaceAll(/\bdeno run\b/g, `"${Deno.execPath()}" run`);
}

Deno.test("the README has transcripts for both servers, nc, socat and errors", () => {
  const all = transcripts();
  assert.ok(all.length >= 6, `found ${all.length} transcripts`);
  const commands = all.flatMap((t) => t.steps.map((s) => s.command)).join("\n");
  for (const needed of ["udp/client.ts", "tcp/client.ts", "nc -N", "nc -u", "socat", "python3"]) {
    assert.ok(commands.includes(needed), `no transcript runs ${needed}`);
  }
});

for (const [index, transcript] of transcripts().entries()) {
  const tools = transcript.steps.map((step) => step.command.split(" | ").at(-1)!.split(" ")[0]);
  const missing = tools.filter((tool) => tool !== "deno" && !hasCommand(tool));
  const name = `README transcript ${index + 1} (${transcript.server}: ${tools.join(", ")})`;
  if (missing.length > 0) console.warn(`skipping ${name}: ${missing.join(", ")} not installed`);
  Deno.test({
    name,
    ignore: missing.length > 0,
    fn: async () => {
      const server = await startServer(transcript.server, transcript.serverArgs);
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
          // Let the server finish with the last client (all but the Ctrl-C line are there),
          // then Ctrl-C, as a reader ends it.
          const lines = transcript.serverOutput.trimEnd().split("\n").length;
          await waitUntil(
            () => server.stderr().trimEnd().split("\n").length >= lines - 1,
            `the server's first ${lines - 1} of the README's ${lines} lines`,
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
