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
import { writeAll } from "./bytes.ts";
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
    if (interactive && atLineStart) await writeAll(Deno.stdout, encoder.encode(prompt));
    const count = await Deno.stdin.read(buffer);
    if (count === null) break;
    atLineStart = buffer[count - 1] === NEWLINE;
    lines.push(buffer.subarray(0, count));
    for (let line = lines.next(); line !== undefined; line = lines.next()) yield line;
  }
  // Ctrl-D leaves the cursor after the prompt or a half-typed line: end that line first, so the
  // last reply and then the shell start on lines of their own.
  if (interactive) await writeAll(Deno.stdout, encoder.encode("\n"));
  const last = withoutCarriageReturn(lines.rest());
  if (last.length > 0) yield last;
}

/** Writes `bytes` and a newline to stdout, like `print()`, without decoding them. */
export async function print(bytes: Uint8Array): Promise<void> {
  const line = new Uint8Array(bytes.length + 1);
  line.set(bytes);
  line[bytes.length] = NEWLINE;
  await output(line);
}

/**
 * Writes `bytes` to stdout as they are. When its reader has gone (`| head -1`), the script
 * ends quietly with status 0, as Unix tools do: there is no one left to tell.
 */
export async function output(bytes: Uint8Array): Promise<void> {
  try {
    await writeAll(Deno.stdout, bytes);
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0);
    throw error;
  }
}
