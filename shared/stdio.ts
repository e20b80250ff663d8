/**
 * The clients' keyboard and screen, for bytes: Python's `input("->")` and `print(...)`, and the TCP
 * client's piped stream. A failed read or write ends the script with a line saying which; a reader
 * that has gone (`| head`) ends it quietly with status 0, as Unix tools do.
 * @example
 * ```ts
 * for await (const line of input("->")) print(line);
 * ```
 * @module
 */
import { concat } from "./codec.ts";
import { Failure } from "./errors.ts";
import { promptShown } from "./log.ts";
import { trace } from "./trace.ts";

const LF = 0x0a; // "\n"
const CR = 0x0d; // "\r"
const NEWLINE = Uint8Array.of(LF); // made once: print() ends every line with it
/** Yields stdin's lines without `\n` or `\r\n`, like `input()`, until its end or `stop`. */
export async function* input(prompt: string, stop?: AbortSignal): AsyncGenerator<Uint8Array> {
  const interactive = Deno.stdin.isTerminal();
  const promptOnScreen = interactive && Deno.stdout.isTerminal(); // not when stdout is piped
  const buffer = new Uint8Array(64 * 1024);
  const endings = lineEndingFilter();
  const promptBytes = new TextEncoder().encode(prompt);
  let partial: Uint8Array[] = []; // the pieces of a line whose "\n" has not come yet
  while (!stop?.aborted) {
    // Ctrl-D in mid-line ends a read without "\n": no prompt then.
    if (interactive && endings.atLineStart) {
      writeStdout(promptBytes);
      promptShown(promptOnScreen);
    }
    const count = await readStdin(buffer, stop);
    if (count === null) break;
    promptShown(false); // the line typed, and its Enter, end it
    const data = endings.push(buffer.subarray(0, count));
    let start = 0;
    for (let end; (end = data.indexOf(LF, start)) !== -1; start = end + 1) {
      const line = concat([...partial, data.subarray(start, end)]);
      partial = [];
      if (stop?.aborted) return;
      trace({ call: "input", bytes: line });
      yield line;
    }
    if (start < data.length) partial.push(data.slice(start));
  }
  if (stop?.aborted) return;
  // Ctrl-D leaves the cursor after the prompt or a half-typed line: end that line first.
  if (interactive) writeStdout(NEWLINE);
  promptShown(false);
  if (endings.atLineStart) return;
  const last = concat(partial);
  trace({ call: "input", bytes: last });
  yield last;
}
/** `Deno.stdin.read`, with a failure named as the standard input's; null when `stop` aborts. */
export async function readStdin(buffer: Uint8Array, stop?: AbortSignal): Promise<number | null> {
  if (stop?.aborted) return null;
  const stopped = Promise.withResolvers<null>();
  const onAbort = () => stopped.resolve(null);
  stop?.addEventListener("abort", onAbort);
  try {
    return await Promise.race([Deno.stdin.read(buffer), stopped.promise]);
  } catch (error) {
    throw new Failure(`cannot read standard input: ${(error as Error).message}`, { cause: error });
  } finally {
    stop?.removeEventListener("abort", onAbort); // one read, one listener: none left behind
  }
}
/** Writes `bytes` to stdout and then `end`, like Python's `print(data, end="\n")`. */
export function print(bytes: Uint8Array, end: "\n" | "" = "\n"): void {
  trace({ call: "print", bytes });
  writeStdout(end ? concat([bytes, NEWLINE]) : bytes);
}
/** Writes all of `bytes`, synchronously: a write per line costs a third as much as an async one. */
function writeStdout(bytes: Uint8Array): void {
  try {
    for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0); // no one left to tell
    const message = `cannot write standard output: ${(error as Error).message}`;
    throw new Failure(message, { cause: error });
  }
}
/** Turns each `\r\n` of a stream of chunks into `\n`, as `input()` does. `atLineStart` is false
 * when the bytes so far end inside a line, which the caller then ends, as `input()` would. */
export function lineEndingFilter(): { push(chunk: Uint8Array): Uint8Array; atLineStart: boolean } {
  let heldCR = false; // a chunk ended with "\r": is it part of a "\r\n"?
  const filter = {
    atLineStart: true,
    push(chunk: Uint8Array): Uint8Array {
      let bytes = heldCR ? concat([Uint8Array.of(CR), chunk]) : chunk;
      heldCR = bytes.at(-1) === CR;
      if (heldCR) bytes = bytes.subarray(0, -1);
      if (bytes.includes(CR)) bytes = bytes.filter((b, i) => b !== CR || bytes[i + 1] !== LF);
      if (bytes.length > 0 || heldCR) filter.atLineStart = !heldCR && bytes.at(-1) === LF;
      return bytes;
    },
  };
  return filter;
}
