/**
 * What a bare `deno test` (no permissions) does: it runs the tests that need none, ignores those
 * that start the scripts or open sockets, and says at its very end how to run them all. Deno runs
 * test modules in the order of their paths and prints what a module's `unload` listener writes
 * right after that module's tests: this module runs last, so its note comes just before Deno's
 * summary line, which counts the ignored tests.
 */
import assert from "node:assert/strict";
import { decode, MISSING_PERMISSIONS, ROOT, test, WAIT_LIMIT_MS, withinOrFail } from "./helpers.ts";

/** The lines a run without the `missing` permissions ends with; none when none is missing. */
function ignoredNote(missing: readonly string[]): string[] {
  if (missing.length === 0) return [];
  const flags = missing.map((name) => `--allow-${name}`);
  const listed = flags.length === 1
    ? flags[0]
    : `${flags.slice(0, -1).join(", ")} and ${flags.at(-1)}`;
  return [
    `The ignored tests need ${listed}:`,
    "run them all with `deno task test` (or `deno test -A`).",
  ];
}

if (MISSING_PERMISSIONS.length > 0) {
  globalThis.addEventListener("unload", () => {
    console.log(ignoredNote(MISSING_PERMISSIONS).join("\n"));
  });
}

Deno.test("the note names the permissions missing and how to run every test", () => {
  assert.deepEqual(ignoredNote([]), []);
  assert.deepEqual(ignoredNote(["net", "run", "read", "write"]), [
    "The ignored tests need --allow-net, --allow-run, --allow-read and --allow-write:",
    "run them all with `deno task test` (or `deno test -A`).",
  ]);
  assert.equal(ignoredNote(["write"])[0], "The ignored tests need --allow-write:");
});

/** `deno test` on this module alone, with `flags`: its status and all it printed. */
async function denoTest(flags: string[]): Promise<{ code: number; output: string }> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["test", "--no-check", ...flags, "tests/without_permissions_test.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  });
  const { code, stdout, stderr } = await withinOrFail(command.output(), WAIT_LIMIT_MS, "deno test");
  return { code, output: decode(stdout) + decode(stderr) };
}

test("a bare deno test ignores what needs permissions and ends saying how to run it", async () => {
  const { code, output } = await denoTest([]);
  assert.equal(code, 0, output);
  assert.match(output, /^a bare deno test ignores what needs permissions .* \.\.\. ignored/m);
  // The note, then Deno's summary: the last lines of the run.
  const note = ignoredNote(["net", "run", "read", "write"]).join("\n");
  const end = `\n${note}\n----- post-test output end -----\n\nok | 1 passed | 0 failed | 2 ignored`;
  assert.ok(output.trimEnd().replace(/ \(\d+m?s\)$/, "").endsWith(end), output);
  // Granted what `deno task test` grants, nothing is ignored and there is no note.
  const task = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks.test as string;
  const flags = task.split(" ").filter((word) => word.startsWith("--allow-"));
  assert.deepEqual(flags.sort(), ["--allow-net", "--allow-read", "--allow-run", "--allow-write"]);
  const granted = await denoTest([...flags, "--filter", "the note names"]);
  assert.equal(granted.code, 0, granted.output);
  assert.doesNotMatch(granted.output, /ignored tests need|post-test output/);
});

test("no test module runs after this one, so that its note comes last", async () => {
  const modules: string[] = [];
  const skip = new Set([".git", ".deno", "node_modules", "bench/build"]);
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory && !skip.has(path)) await walk(`${path}/`);
      if (entry.isFile && /(^|[_.])test\.(ts|tsx|mts|js|jsx|mjs)$/.test(entry.name)) {
        modules.push(path);
      }
    }
  };
  await walk("");
  assert.equal(modules.sort().at(-1), "tests/without_permissions_test.ts", modules.join("\n"));
});
