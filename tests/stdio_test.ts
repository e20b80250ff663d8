import assert from "node:assert/strict";
import { decode, encode, randomSource, ROOT, test } from "./helpers.ts";

/** The lines `input()` yields for stdin written in `chunks`, one write each, in a subprocess. */
async function inputLines(chunks: string[]): Promise<string[]> {
  const code = `import { input } from "./shared/stdio.ts";
for await (const line of input("->")) console.log(JSON.stringify(new TextDecoder().decode(line)));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  for (const chunk of chunks) await writer.write(encode(chunk));
  await writer.close();
  const { stdout } = await child.output();
  return decode(stdout).trimEnd().split("\n").filter((line) => line).map((line) =>
    JSON.parse(line)
  );
}

test("input() gives a line cut across reads whole, without its \\n or \\r\\n", async () => {
  const lines = await inputLines(["HEL", "LO\nWOR", "LD\r", "\n\nlast\r"]);
  assert.deepEqual(lines, ["HELLO", "WORLD", "", "last"]);
});

test("input() split in random chunks gives the lines of the whole input", async () => {
  const random = randomSource(5);
  const alphabet = ["a", "\r", "\n", "안", "\r\n"];
  const text = Array.from({ length: 300 }, () => alphabet[random(alphabet.length)]).join("");
  const chunks: string[] = [];
  for (let start = 0; start < text.length;) {
    const end = Math.min(text.length, start + 1 + random(6));
    chunks.push(text.slice(start, end));
    start = end;
  }
  // As Python's input() gives them: split at "\n", one "\r" before it dropped, a last line kept.
  const expected = text.split("\n").map((line) => line.replace(/\r$/, ""));
  if (expected.at(-1) === "") expected.pop();
  assert.deepEqual(await inputLines(chunks), expected);
});
