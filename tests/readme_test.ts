/**
 * The README's transcripts are real: each ```console block under a `<!-- transcript: SERVER -->`
 * comment is run again against SERVER on a free port, and its output must match. Port 5005 in
 * the text stands for that port; a `deno run` of one of our scripts without `--port` gets it.
 */
import assert from "node:assert/strict";
import { decode, ROOT, startServer, withinOrFail } from "./helpers.ts";

const README = await Deno.readTextFile(`${ROOT}README.md`);

interface Step {
  command: string;
  expected: string;
}

interface Transcript {
  server: string;
  steps: Step[];
}

function transcripts(): Transcript[] {
  const found: Transcript[] = [];
  const pattern = /<!-- transcript: (\S+) -->\s*```console\n([\s\S]*?)```/g;
  for (const [, server, body] of README.matchAll(pattern)) {
    const steps: Step[] = [];
    for (const line of body.split("\n")) {
      if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: "" });
      else if (steps.length > 0 && line !== "") steps.at(-1)!.expected += line + "\n";
    }
    found.push({ server, steps });
  }
  return found;
}

function forPort(text: string, port: number): string {
  return text.replaceAll(/\b5005\b/g, `${port}`);
}

/** The command as a test runs it: this Deno, the server's real port. */
function localCommand(command: string, port: number): string {
  return forPort(command, port).replaceAll(
    /\bdeno run ((?:--[\w-]+ )*)((?:udp|tcp)\/(?:server|client)\.ts)(?!.*--port)/g,
    `"${Deno.execPath()}" run $1$2 --port ${port}`,
  ).replaceAll(/\bdeno run\b/g, `"${Deno.execPath()}" run`);
}

function hasCommand(name: string): boolean {
  return new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).outputSync().success;
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
      const server = await startServer(transcript.server);
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
            decode(stdout).trimEnd(),
            forPort(step.expected, server.port).trimEnd(),
            `$ ${step.command}`,
          );
        }
      } finally {
        await server.stop();
      }
    },
  });
}

Deno.test("the README's npx commands pin the same Deno version as .ci/run", async () => {
  const ci = await Deno.readTextFile(`${ROOT}.ci/run`);
  const pinned = ci.match(/^DENO_VERSION=(\S+)/m)?.[1];
  assert.ok(pinned, "no DENO_VERSION in .ci/run");
  const versions = [...README.matchAll(/deno@([\d.]+)/g)].map((match) => match[1]);
  assert.ok(versions.length >= 2);
  assert.deepEqual(new Set(versions), new Set([pinned]));
  assert.equal(Deno.version.deno, pinned, "the tests run on another Deno than the pinned one");
});
