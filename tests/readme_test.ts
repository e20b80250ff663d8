/**
 * README.md and README.ko.md are checked against the code they teach:
 *
 * - They are one README in two languages: they link to each other in their first lines, and
 *   have the same headings (by level) and the same checked blocks, in the same order.
 * - Each is at most 650 lines, its quick start (up to `deno task test`) in the first 60, with
 *   three or more diagrams.
 * - Their code is real: a `ts` block after `<!-- code: FILE -->` is lines of FILE (trimmed), in
 *   order and one after another; a `// ...` line stands for lines left out. A `ts` block after
 *   `<!-- example -->` is run, type-checked, and prints what its last line's comment says.
 * - Their diagrams are real: a `mermaid` block after `<!-- demo: ARGS -->` is what
 *   `deno task demo ARGS` prints.
 * - Their transcripts are real: after `<!-- transcript: SERVER FLAGS -->`, an `sh` block with one
 *   command and a `text` block with what it prints (stdout and stderr) are run again against
 *   SERVER, started with FLAGS (e.g. `--drop=1`) on a free port. Port 5005 in the text stands
 *   for that port; a client port, for 40001, 40002, ... in the order they appear.
 * - Every `deno run` allows the network for the loopback address only; every Deno version named
 *   is the one .ci/run pins; the flags section lists every flag of every script's `--help`.
 */
import assert from "node:assert/strict";
import {
  decode,
  MISSING_PERMISSIONS,
  ROOT,
  RUN_LIMIT_MS,
  startServer,
  test,
  withinOrFail,
} from "./helpers.ts";

const SCRIPTS = ["udp/server.ts", "udp/client.ts", "tcp/server.ts", "tcp/client.ts"];
/** Each README, and the heading of its list of flags. */
const READMES = [
  { file: "README.md", flags: "## Flags", other: "README.ko.md" },
  { file: "README.ko.md", flags: "## 옵션", other: "README.md" },
];
const MAX_LINES = 650;
const QUICK_START_LINES = 60;
/** The line in a `ts` block that stands for lines of the file left out. */
const ELISION = "// ...";

/** A fenced block after a `<!-- kind: argument -->` marker. */
interface Marked {
  readme: string;
  /** Where the marker is, for messages: `README.md:123`. */
  at: string;
  kind: string;
  argument: string;
  /** The fenced blocks right after the marker: [language, body] each. */
  blocks: [string, string][];
}

/** The READMEs' text, read only when the tests may read (a bare `deno test` may not). */
const texts = new Map<string, string>(
  MISSING_PERMISSIONS.length > 0
    ? []
    : READMES.map(({ file }) => [file, Deno.readTextFileSync(`${ROOT}${file}`)]),
);

function markedBlocks(readme: string): Marked[] {
  const text = texts.get(readme) ?? "";
  const pattern =
    /<!-- (code|example|demo|transcript)(?:: (.*?))? -->\n((?:\s*```\w*\n[\s\S]*?```)+)/g;
  return [...text.matchAll(pattern)].map((match) => ({
    readme,
    at: `${readme}:${text.slice(0, match.index).split("\n").length}`,
    kind: match[1],
    argument: match[2] ?? "",
    blocks: [...match[3].matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((b) => [b[1], b[2]]),
  }));
}

/** Every checked block of both READMEs, each kind with its own check. */
const MARKED = READMES.flatMap(({ file }) => markedBlocks(file));
const ofKind = (kind: string) => MARKED.filter((marked) => marked.kind === kind);

/** Blocks that are the same in both READMEs are run once, named by where they are. */
function unique(kind: string): [string, Marked][] {
  const byContent = new Map<string, Marked[]>();
  for (const marked of ofKind(kind)) {
    const key = JSON.stringify([marked.argument, marked.blocks]);
    byContent.set(key, [...(byContent.get(key) ?? []), marked]);
  }
  return [...byContent.values()].map((all) => [all.map((m) => m.at).join(", "), all[0]]);
}

for (const { file, other } of READMES) {
  test(`${file} links to ${other} in its first lines and has its sections and blocks`, () => {
    const [text, otherText] = [texts.get(file)!, texts.get(other)!];
    assert.ok(text.split("\n").slice(0, 3).some((line) => line.includes(`](${other})`)));
    const outline = (text: string) =>
      text.split("\n").filter((line) => /^#+ |^<!-- \w+/.test(line))
        .map((line) => line.startsWith("#") ? line.split(" ")[0] : line);
    assert.deepEqual(outline(text), outline(otherText), "headings and markers differ");
    const blocks = (readme: string) => markedBlocks(readme).map((m) => [m.kind, m.blocks]);
    assert.deepEqual(blocks(file), blocks(other), "a checked block differs between the two");
  });

  test(`${file}: at most ${MAX_LINES} lines, the quick start first, three diagrams`, () => {
    const lines = texts.get(file)!.split("\n");
    assert.ok(lines.length - 1 <= MAX_LINES, `${lines.length - 1} lines`);
    const tests = lines.indexOf("deno task test") + 1;
    assert.ok(tests > 0 && tests <= QUICK_START_LINES, `deno task test is on line ${tests}`);
    const diagrams = lines.filter((line) => line === "```mermaid").length;
    assert.ok(diagrams >= 3, `${diagrams} mermaid blocks`);
    assert.equal(ofKind("demo").filter((m) => m.readme === file).length, diagrams);
  });

  test(`every ts block in ${file} is marked as code from a file or as an example`, () => {
    const text = texts.get(file)!;
    const blocks = text.match(/^```(?:ts|typescript)$/gm)?.length ?? 0;
    const marked = markedBlocks(file).filter((m) => m.kind === "code" || m.kind === "example");
    assert.equal(marked.length, blocks, "a ts block has no <!-- code: FILE --> before it");
    for (const script of SCRIPTS) {
      assert.ok(marked.some((m) => m.argument === script), `no ts block quotes ${script}`);
    }
  });

  test(`every deno run in ${file} allows the network for the loopback address only`, () => {
    const commands = texts.get(file)!.split("\n").filter((line) =>
      /\bdeno(@[\d.]+)? run\b/.test(line)
    );
    assert.ok(commands.length >= 5, `found ${commands.length} deno run commands`);
    for (const command of commands) {
      for (const [, value] of command.matchAll(/--allow-net(=[^\s`]+)?/g)) {
        const host = value?.replaceAll("'", "");
        assert.ok(host === "=127.0.0.1" || host === "=[::1]", `allows more: ${command}`);
      }
    }
  });

  test(`${file} names the Deno version .ci/run pins, for npm, npx and Deno's installer`, () => {
    const ci = Deno.readTextFileSync(`${ROOT}.ci/run`);
    const pinned = ci.match(/^DENO_VERSION=(\S+)$/m)?.[1];
    assert.ok(pinned, "no DENO_VERSION= in .ci/run");
    const text = texts.get(file)!;
    for (const needed of ["npm install -g deno@", "npx -y deno@", "sh -s v", '$v="']) {
      assert.ok(text.includes(needed + pinned), `no ${needed}${pinned}`);
    }
    const named = [...text.matchAll(/\bdeno@([\w.-]+)|sh -s v([\d.]+)|\$v="([^"]+)"/g)]
      .map((match) => match[1] ?? match[2] ?? match[3]);
    assert.deepEqual([...new Set(named)], [pinned]);
  });

  test(`${file}'s list of flags has every flag of every script's --help`, async () => {
    const heading = READMES.find((readme) => readme.file === file)!.flags;
    const section = texts.get(file)!.split(`\n${heading}\n`)[1]?.split(/\n## /)[0];
    assert.ok(section, `no ${heading} section`);
    // Each script's flags are listed under `script`:, or before them all (all four scripts).
    const parts = section.split(/^`(\S+)`:$/m);
    for (const script of SCRIPTS) {
      assert.ok(parts.includes(script), `no list of ${script}'s flags`);
      const listed = parts[0] + parts[parts.indexOf(script) + 1];
      for (const [flag] of (await help(script)).matchAll(/^ {2}(?:-h, )?--[\w-]+(?: [A-Z]+)?/gm)) {
        const item = flag.trim().replace(/^-h, /, "");
        assert.ok(listed.includes(`\`${item}\``), `${script} ${item} is not listed under it`);
      }
    }
  });
}

async function help(script: string): Promise<string> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", script, "--help"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(code, 0, `${script} --help`);
  return decode(stdout);
}

for (const marked of ofKind("code")) {
  test(`${marked.at}: the ts block quotes ${marked.argument} line by line`, async () => {
    const source = (await Deno.readTextFile(`${ROOT}${marked.argument}`)).split("\n")
      .map((line) => line.trim()).filter((line) => line !== "");
    // Runs of lines between `// ...` elisions: each must be in the file as it is, in order.
    const runs: string[][] = [[]];
    for (const line of marked.blocks[0][1].split("\n").map((line) => line.trim())) {
      if (line === ELISION) runs.push([]);
      else if (line !== "") runs.at(-1)!.push(line);
    }
    let from = 0;
    for (const run of runs.filter((run) => run.length > 0)) {
      const at = findRun(source, run, from);
      if (at === -1) {
        const missing = run.find((line) => !source.slice(from).includes(line));
        assert.fail(
          missing === undefined
            ? `not one after another in ${marked.argument}, or not in this order (mark ` +
              `left-out lines with "${ELISION}"):\n${run.join("\n")}`
            : `not a line of ${marked.argument} (after the lines before it): ${missing}`,
        );
      }
      from = at + run.length;
    }
  });
}

/** Where `wanted` occurs in `lines` as consecutive lines, at or after `from`; -1 if not. */
function findRun(lines: string[], wanted: string[], from: number): number {
  for (let at = from; at + wanted.length <= lines.length; at++) {
    if (wanted.every((line, i) => lines[at + i] === line)) return at;
  }
  return -1;
}

for (const [where, marked] of unique("example")) {
  test(`${where}: the example type-checks and prints what its last comment says`, async () => {
    const code = marked.blocks[0][1];
    const expected = code.trimEnd().split("\n").at(-1)!.match(/\/\/ (.*)$/)?.[1];
    assert.ok(expected, "the example's last line has no // comment saying what it prints");
    const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--check", "--ext=ts", code],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
    }).output();
    assert.ok(success, decode(stderr));
    assert.equal(decode(stdout).trimEnd(), expected);
  });
}

const DEMO = `${ROOT}demo/main.ts`;
const hasDemo = MISSING_PERMISSIONS.length === 0 && exists(DEMO);
if (!hasDemo && MISSING_PERMISSIONS.length === 0) {
  console.warn("skipping the README diagrams: demo/main.ts is not there (deno task demo)");
}
for (const [where, marked] of unique("demo")) {
  // As a reader types it, in a shell: an argument may be "$(printf ...)".
  const command = `"$DENO" run --allow-run="$DENO" "$DEMO" ${marked.argument}`;
  test(`${where}: the diagram is what deno task demo ${marked.argument} prints`, async () => {
    const { stdout, stderr } = await withinOrFail(
      new Deno.Command("bash", {
        args: ["-c", command],
        env: { NO_COLOR: "1", DENO: Deno.execPath(), DEMO },
        cwd: ROOT,
        stdin: "null",
      }).output(),
      RUN_LIMIT_MS,
      `deno task demo ${marked.argument}`,
    );
    assert.equal(marked.blocks[0][0], "mermaid");
    assert.equal(decode(stdout), marked.blocks[0][1], decode(stderr));
  }, !hasDemo);
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

test("the READMEs have transcripts of both clients, their errors and --trace", () => {
  const commands = ofKind("transcript").map((m) => m.blocks[0][1]).join("\n");
  for (const needed of ["udp/client.ts", "tcp/client.ts", "--trace", "error:"]) {
    assert.ok(
      commands.includes(needed) ||
        ofKind("transcript").some((m) => m.blocks[1]?.[1].includes(needed)),
      `no transcript shows ${needed}`,
    );
  }
});

for (const [where, marked] of unique("transcript")) {
  const [server, ...serverArgs] = marked.argument.split(" ");
  test(`${where}: the transcript against ${marked.argument} comes out as shown`, async () => {
    const [[shell, command], [text, expected]] = marked.blocks;
    assert.deepEqual(
      [shell, text],
      ["sh", "text"],
      "a transcript is an sh block, then a text block",
    );
    assert.equal(command.trimEnd().split("\n").length, 1, "one command per transcript");
    await using running = await startServer(server, serverArgs.flatMap((arg) => arg.split("=")));
    const { stdout } = await withinOrFail(
      new Deno.Command("bash", {
        args: ["-c", `{ ${localCommand(command.trim(), running.port)}; } 2>&1`],
        cwd: ROOT,
        stdin: "null",
        env: { NO_COLOR: "1" },
      }).output(),
      RUN_LIMIT_MS,
      command,
    );
    assert.equal(portNormalizer(running.port)(decode(stdout)).trimEnd(), expected.trimEnd());
  });
}

/** The command as a test runs it: this Deno, and the server's port where the text says 5005. */
function localCommand(command: string, port: number): string {
  return command.replaceAll(/\b5005\b/g, `${port}`).replaceAll(
    /\bdeno run ((?:--[\w-]+(?:=\S+)? )*)((?:udp|tcp)\/client\.ts)(?!.*--port)/g,
    `deno run $1$2 --port ${port}`,
  ).replaceAll(
    /\bdeno run ((?:--[\w-]+(?:=\S+)? )*)(tcp\/server\.ts)(?!.*--port)/g,
    `deno run $1$2 --port ${port}`,
  ).replaceAll(/\bdeno run\b/g, `"${Deno.execPath()}" run`);
}

/** The server's port as 5005, each other port as 40001, 40002, ... in order of appearance. */
function portNormalizer(serverPort: number): (text: string) => string {
  const names = new Map<string, string>();
  return (text) =>
    text.replaceAll(new RegExp(`\\b${serverPort}\\b`, "g"), "5005").replaceAll(
      /(?<=(?:127\.0\.0\.1|\]):)\d{4,5}\b/g,
      (port) => {
        if (port === "5005") return port;
        if (!names.has(port)) names.set(port, `${40001 + names.size}`);
        return names.get(port)!;
      },
    );
}
