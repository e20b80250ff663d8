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
import { lineSplitter, NEWLINE, withoutCarriageReturn } from "./lines.ts";

const encoder = new TextEncoder();

/**
 * Yields stdin line by line, without the line ending (`\n` or `\r\n`), like `input()`.
 * Ends at end of input (Ctrl-D on a terminal); a last line without `\n` is still yielded.
 */
export async function* input(prompt: string): AsyncGenerator<Uint8Array> {
  const interactive = Deno.stdin.isTerminal();
  const lines = lineSplitter();
  const buffer = new Uint8Array(64 * 1024);
  let atLineStart = true; // Ctrl-D in mid-line ends a read without "\n": no prompt then
  while (true) {
    await flushOutput();
    if (interactive && atLineStart) await writeAll(Deno.stdout, encoder.encode(prompt));
    const count = await Deno.stdin.read(buffer);
    if (count === null) break;
    atLineStart = buffer[count - 1] === NEWLINE;
    lines.push(buffer.subarray(0, count));
    for (let line = lines.next(); line !== undefined; line = lines.next()) yield line;
  }
  const last = withoutCarriageReturn(lines.rest());
  if (last.length > 0) yield last;
  // Ctrl-D leaves the cursor after the prompt: end the line so the shell starts clean.
  if (interactive) await writeAll(Deno.stdout, encoder.encode("\n"));
}

const NEWLINE_BYTES = new Uint8Array([NEWLINE]);
/** Output not yet written: piped output goes out in large writes, not one per line. */
let unwritten: Uint8Array[] = [];
let unwrittenBytes = 0;
const FLUSH_AT = 64 * 1024;
let stdoutIsTerminal: boolean | undefined;

/**
 * Writes `bytes` and a newline to stdout, like `print()`, without decoding them. On a
 * terminal each line appears at once; piped output is gathered into large writes and goes
 * out at the latest before stdin is read again or the script exits (`flushOutput`).
 * `bytes` is copied when kept, so the caller may reuse its buffer.
 */
export async function print(bytes: Uint8Array): Promise<void> {
  stdoutIsTerminal ??= Deno.stdout.isTerminal(); // asked once: it is a system call
  unwritten.push(bytes.slice(), NEWLINE_BYTES);
  unwrittenBytes += bytes.length + 1;
  if (unwrittenBytes >= FLUSH_AT || stdoutIsTerminal) await flushOutput();
}

/** Writes out everything `print` has gathered. */
export async function flushOutput(): Promise<void> {
  if (unwritten.length === 0) return;
  const output = concat(unwritten);
  unwritten = [];
  unwrittenBytes = 0;
  await writeAll(Deno.stdout, output);
}
