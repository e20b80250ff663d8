import assert from "node:assert/strict";
import { lineEndingFilter } from "../shared/stdio.ts";
import { countLines } from "../tcp/lines.ts";
import { concat, decode, encode, randomSource, ROOT, test } from "./helpers.ts";

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

Deno.test("countLines counts the \\n bytes", () => {
  assert.equal(countLines(encode("")), 0);
  assert.equal(countLines(encode("no newline")), 0);
  assert.equal(countLines(encode("\n\na\nb")), 3);
});

Deno.test("\\r\\n becomes \\n, also when a chunk ends between \\r and \\n", () => {
  const filter = lineEndingFilter();
  const out = ["one\r", "\ntwo\r\n", "a\rb\r", "c\r"].map((text) => filter.push(encode(text)));
  // A lone "\r" stays; the held "\r" at the very end is dropped: the stream ended there.
  assert.equal(decode(concat(out)), "one\ntwo\na\rb\rc");
  assert.equal(filter.atLineStart, false); // so the caller ends the last line with "\n"
});

Deno.test("atLineStart says whether the input so far ends a line", () => {
  const filter = lineEndingFilter();
  assert.equal(filter.atLineStart, true); // nothing yet
  filter.push(encode("a"));
  assert.equal(filter.atLineStart, false);
  filter.push(encode("\r\n"));
  assert.equal(filter.atLineStart, true);
  filter.push(encode("\r"));
  assert.equal(filter.atLineStart, false);
});

Deno.test("filtered and split in random chunks, lines are those of the whole input", () => {
  const random = randomSource(5);
  const alphabet = ["a", "\r", "\n", "안", "\r\n"];
  for (let round = 0; round < 200; round++) {
    const text = Array.from({ length: random(30) }, () => alphabet[random(alphabet.length)])
      .join("");
    const input = encode(text);
    const filter = lineEndingFilter();
    const chunks: Uint8Array[] = [];
    for (let start = 0; start < input.length;) {
      const end = Math.min(input.length, start + 1 + random(6));
      chunks.push(filter.push(input.slice(start, end)));
      start = end;
    }
    const expected = text.replaceAll("\r\n", "\n").replace(/\r$/, "");
    assert.equal(decode(concat(chunks)), expected, JSON.stringify(text));
    const endsLine = !text.endsWith("\r") && (expected === "" || expected.endsWith("\n"));
    assert.equal(filter.atLineStart, endsLine, JSON.stringify(text));
  }
});
