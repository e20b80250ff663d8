/**
 * The clients' keyboard and screen: Python's `input("->")` and `print(...)` for bytes.
 * The prompt appears only when stdin is a terminal, so piped input gives clean output: one
 * reply per line and nothing else. Lines are bytes, not strings, so text that is not UTF-8
 * goes to the server exactly as it was typed or piped.
 *
 * @example
 * ```ts
 * import { input, print } from "./stdio.ts";
 * for await (const line of input("->")) await print(line);
 * ```
 * @module
 */
import { concat, writeAll } from "./bytes.ts";

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const encoder = new TextEncoder();

/**
 * Yields stdin line by line, without the line ending (`\n` or `\r\n`), like `input()`.
 * Ends at end of input (Ctrl-D on a terminal); a last line without `\n` is still yielded.
 */
export async function* input(prompt: string): AsyncGenerator<Uint8Array> {
  const interactive = Deno.stdin.isTerminal();
  const buffer = new Uint8Array(64 * 1024);
  let pending: Uint8Array[] = [];
  let lines: Uint8Array[] = [];
  while (true) {
    if (lines.length === 0) {
      if (interactive) await writeAll(Deno.stdout, encoder.encode(prompt));
      const count = await Deno.stdin.read(buffer);
      if (count === null) break;
      [lines, pending] = splitLines(buffer.subarray(0, count), pending);
      continue;
    }
    yield lines.shift()!;
  }
  const last = joinParts(pending);
  if (last.length > 0) yield withoutCarriageReturn(last);
  // Ctrl-D leaves the cursor after the prompt: end the line so the shell starts clean.
  if (interactive) await writeAll(Deno.stdout, encoder.encode("\n"));
}

/** Writes `bytes` and a newline to stdout, like `print()`, without decoding them. */
export async function print(bytes: Uint8Array): Promise<void> {
  const line = new Uint8Array(bytes.length + 1);
  line.set(bytes);
  line[bytes.length] = NEWLINE;
  await writeAll(Deno.stdout, line);
}

/** Splits `chunk` at newlines; `pending` is the unfinished line carried over from before. */
function splitLines(chunk: Uint8Array, pending: Uint8Array[]): [Uint8Array[], Uint8Array[]] {
  const lines: Uint8Array[] = [];
  let start = 0;
  let end: number;
  while ((end = chunk.indexOf(NEWLINE, start)) !== -1) {
    lines.push(withoutCarriageReturn(joinParts([...pending, chunk.subarray(start, end)])));
    pending = [];
    start = end + 1;
  }
  if (start < chunk.length) pending = [...pending, chunk.slice(start)];
  return [lines, pending];
}

function withoutCarriageReturn(line: Uint8Array): Uint8Array {
  return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
}

function joinParts(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0].slice();
  return concat(parts);
}
