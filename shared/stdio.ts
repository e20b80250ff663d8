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
  let pending: Uint8Array[] = []; // the start of a line that continues in the next read
  while (true) {
    await flushOutput();
    if (interactive) await writeAll(Deno.stdout, encoder.encode(prompt));
    // A fresh buffer for every read: the lines handed out are views into it, never copies.
    const buffer = new Uint8Array(64 * 1024);
    const count = await Deno.stdin.read(buffer);
    if (count === null) break;
    const chunk = buffer.subarray(0, count);
    let start = 0;
    let end: number;
    while ((end = chunk.indexOf(NEWLINE, start)) !== -1) {
      const piece = chunk.subarray(start, end);
      const line = pending.length === 0 ? piece : concat([...pending, piece]);
      pending = [];
      yield withoutCarriageReturn(line);
      start = end + 1;
    }
    if (start < count) pending.push(chunk.subarray(start));
  }
  const last = concat(pending);
  if (last.length > 0) yield withoutCarriageReturn(last);
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
 */
export async function print(bytes: Uint8Array): Promise<void> {
  unwritten.push(bytes, NEWLINE_BYTES);
  unwrittenBytes += bytes.length + 1;
  stdoutIsTerminal ??= Deno.stdout.isTerminal(); // asked once: it is a system call
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

/** Prints replies in the order they were asked for, while up to `window` are still on the way. */
export interface OrderedPrinter {
  /** Queues `reply` for printing; waits only while `window` replies are already outstanding. */
  print(reply: Promise<Uint8Array>): Promise<void>;
  /** Waits until every queued reply has been printed. */
  finish(): Promise<void>;
}

/**
 * `beforeWait` runs when `print` is about to wait for a reply that is not there yet: a client
 * that gathers its sends into batches (`batchedSender`) sends them there, so it never waits
 * for a reply to a message it has not sent.
 */
export function printInOrder(window: number, beforeWait?: () => void): OrderedPrinter {
  const outstanding: { printed: Promise<void>; arrived: boolean }[] = [];
  let printed = Promise.resolve();
  let failure: unknown;
  const check = () => {
    if (failure !== undefined) throw failure;
  };
  return {
    async print(reply) {
      // Chained, so each reply is printed after the one before it, whichever arrives first.
      printed = printed.then(async () => print(await reply));
      const entry = { printed: printed.catch((error) => void (failure ??= error)), arrived: false };
      reply.then(() => entry.arrived = true, () => entry.arrived = true); // also: no unhandled rejection
      outstanding.push(entry);
      if (outstanding.length >= window) {
        const oldest = outstanding.shift()!;
        if (!oldest.arrived) beforeWait?.();
        await oldest.printed;
      }
      check();
    },
    async finish() {
      beforeWait?.();
      await Promise.all(outstanding.splice(0).map((entry) => entry.printed));
      check();
    },
  };
}

function withoutCarriageReturn(line: Uint8Array): Uint8Array {
  return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
}
