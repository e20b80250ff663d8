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
      await flushOutput();
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

const NEWLINE_BYTES = new Uint8Array([NEWLINE]);
/** Output not yet written: piped output goes out in large writes, not one per line. */
let unwritten: Uint8Array[] = [];
let unwrittenBytes = 0;
const FLUSH_AT = 64 * 1024;

/**
 * Writes `bytes` and a newline to stdout, like `print()`, without decoding them. On a
 * terminal each line appears at once; piped output is gathered into large writes and goes
 * out at the latest before stdin is read again or the script exits (`flushOutput`).
 */
export async function print(bytes: Uint8Array): Promise<void> {
  unwritten.push(bytes, NEWLINE_BYTES);
  unwrittenBytes += bytes.length + 1;
  if (unwrittenBytes >= FLUSH_AT || Deno.stdout.isTerminal()) await flushOutput();
}

/** Writes out everything `print` has gathered. */
export async function flushOutput(): Promise<void> {
  if (unwritten.length === 0) return;
  const output = concat(unwritten);
  unwritten = [];
  unwrittenBytes = 0;
  await writeAll(Deno.stdout, output);
}

/** Prints replies in the order they were asked for, while up to `window` are still on the way. */
export interface OrderedPrinter {
  /** Queues `reply` for printing; waits only while `window` replies are already outstanding. */
  print(reply: Promise<Uint8Array>): Promise<void>;
  /** Waits until every queued reply has been printed. */
  finish(): Promise<void>;
}

export function printInOrder(window: number): OrderedPrinter {
  const outstanding: Promise<void>[] = [];
  let printed = Promise.resolve();
  let failure: unknown;
  const check = () => {
    if (failure !== undefined) throw failure;
  };
  return {
    async print(reply) {
      reply.catch(() => {}); // its failure is reported in order, below, not as unhandled
      // Chained, so each reply is printed after the one before it, whichever arrives first.
      printed = printed.then(async () => print(await reply));
      outstanding.push(printed.catch((error) => void (failure ??= error)));
      if (outstanding.length >= window) await outstanding.shift();
      check();
    },
    async finish() {
      await Promise.all(outstanding.splice(0));
      check();
    },
  };
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
