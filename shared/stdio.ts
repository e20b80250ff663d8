/**
 * The clients' keyboard and screen: Python's `input("->")` and `print(...)` for bytes.
 * The prompt appears only when stdin is a terminal, so piped input gives clean output: one
 * reply per line and nothing else. Lines are bytes, not strings, so text that is not UTF-8
 * goes to the server exactly as it was typed or piped. A failure to read stdin or write stdout
 * ends the script with one line that names which; a reader that has gone (`| head`) ends it
 * quietly with status 0, as Unix tools do.
 *
 * @example
 * ```ts
 * import { input, print } from "./stdio.ts";
 * for await (const line of input("->")) await print(line);
 * ```
 * @module
 */
import { writeAll } from "./bytes.ts";
import { lineSplitter, NEWLINE, withNewline, withoutCarriageReturn } from "./lines.ts";
import { trace } from "./trace.ts";

const encoder = new TextEncoder();

/**
 * Yields stdin line by line, without the line ending (`\n` or `\r\n`), like `input()`. Ends at
 * the end of input (Ctrl-D on a terminal), or at once when `stop` aborts; a last line without
 * `\n` is still yielded.
 */
export async function* input(prompt: string, stop?: AbortSignal): AsyncGenerator<Uint8Array> {
  const interactive = Deno.stdin.isTerminal();
  const stopped = new Promise<null>((resolve) =>
    stop?.addEventListener("abort", () => resolve(null))
  );
  const lines = lineSplitter();
  const buffer = new Uint8Array(64 * 1024);
  let atLineStart = true; // Ctrl-D in mid-line ends a read without "\n": no prompt then
  while (!stop?.aborted) {
    if (interactive && atLineStart) await writeStdout(encoder.encode(prompt));
    const count = await Promise.race([readStdin(buffer), stopped]);
    if (count === null) break;
    atLineStart = buffer[count - 1] === NEWLINE;
    lines.push(buffer.subarray(0, count));
    for (let line = lines.next(); line !== undefined && !stop?.aborted; line = lines.next()) {
      trace({ call: "input", bytes: line });
      yield line;
    }
  }
  if (stop?.aborted) return;
  // Ctrl-D leaves the cursor after the prompt or a half-typed line: end that line first, so the
  // last reply and then the shell start on lines of their own.
  if (interactive) await writeStdout(encoder.encode("\n"));
  const last = withoutCarriageReturn(lines.rest());
  if (last.length > 0) {
    trace({ call: "input", bytes: last });
    yield last;
  }
}

/** Reads what stdin has, up to `buffer`'s size: `Deno.stdin.read`, with a failure named. */
export async function readStdin(buffer: Uint8Array): Promise<number | null> {
  try {
    return await Deno.stdin.read(buffer);
  } catch (error) {
    throw new Error(`cannot read standard input: ${(error as Error).message}`, { cause: error });
  }
}

/** Writes `bytes` and a newline to stdout, like `print()`, without decoding them. */
export async function print(bytes: Uint8Array): Promise<void> {
  trace({ call: "print", bytes });
  await writeStdout(withNewline(bytes));
}

/** Writes `bytes` to stdout as they are, like `print(..., end="")`: a reply as it comes. */
export async function output(bytes: Uint8Array): Promise<void> {
  trace({ call: "print", bytes });
  await writeStdout(bytes);
}

async function writeStdout(bytes: Uint8Array): Promise<void> {
  try {
    await writeAll(Deno.stdout, bytes);
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0); // no one left to tell
    throw new Error(`cannot write standard output: ${(error as Error).message}`, { cause: error });
  }
}
