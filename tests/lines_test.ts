import assert from "node:assert/strict";
import { concat } from "../shared/bytes.ts";
import { countLines, lineEndingFilter, lineSplitter } from "../shared/lines.ts";
import { decode, encode, randomSource } from "./helpers.ts";

/** Every whole line a splitter gives for `chunks`, then its rest. */
function split(chunks: Uint8Array[]): { lines: string[]; rest: string } {
  const splitter = lineSplitter();
  const lines: string[] = [];
  for (const chunk of chunks) {
    splitter.push(chunk);
    for (let line = splitter.next(); line !== undefined; line = splitter.next()) {
      lines.push(decode(line));
    }
  }
  return { lines, rest: decode(splitter.rest()) };
}

Deno.test("a line cut across reads comes out whole, without its \\n or \\r\\n", () => {
  const chunks = ["HEL", "LO\nWOR", "LD\r", "\n\nlast"].map(encode);
  assert.deepEqual(split(chunks), { lines: ["HELLO", "WORLD", ""], rest: "last" });
});

Deno.test("the splitter copies what it is given: the caller may reuse its buffer", () => {
  const splitter = lineSplitter();
  const buffer = encode("abc");
  splitter.push(buffer);
  buffer.set(encode("xyz"));
  splitter.push(encode("\n"));
  assert.equal(decode(splitter.next()!), "abc");
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
