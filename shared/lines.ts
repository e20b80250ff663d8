/**
 * Lines in a byte stream: the frame our TCP client puts around each message. TCP delivers bytes
 * with no message boundaries, so a reply may come in several reads or several in one; a reply
 * ends where its `\n` is, and `countLines` counts them. Upper-casing keeps `\n` as it is, and no
 * character can be joined across it, so a line upper-cased is still exactly one line. The same
 * frame cuts what the user types into lines (`lineSplitter`), and `\r\n` counts as `\n`.
 *
 * @example
 * ```ts
 * import { countLines, lineSplitter } from "./lines.ts";
 * countLines(new TextEncoder().encode("HELLO\nWOR")); // 1: one reply is in
 * const lines = lineSplitter();
 * lines.push(new TextEncoder().encode("hello\r\nwor"));
 * new TextDecoder().decode(lines.next()); // "hello"; then undefined until "ld\n" comes
 * ```
 * @module
 */
import { concat } from "./bytes.ts";

/** The byte that ends a line. */
export const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const EMPTY = new Uint8Array(0);

/** Cuts bytes that arrive in pieces into whole lines. */
export interface LineSplitter {
  /** Adds bytes; they are copied, so the caller may reuse its buffer. */
  push(bytes: Uint8Array): void;
  /** The next whole line, without its `\n` (nor a `\r` before it); undefined until there is one. */
  next(): Uint8Array | undefined;
  /** The bytes after the last `\n`: a last line that has no `\n`. Empties the splitter. */
  rest(): Uint8Array;
}

/** A new, empty `LineSplitter`. */
export function lineSplitter(): LineSplitter {
  let pending: Uint8Array = EMPTY;
  let start = 0;
  return {
    push(bytes) {
      pending = concat([pending.subarray(start), bytes]);
      start = 0;
    },
    next() {
      const end = pending.indexOf(NEWLINE, start);
      if (end === -1) return undefined;
      const line = pending.subarray(start, end);
      start = end + 1;
      return withoutCarriageReturn(line);
    },
    rest() {
      const rest = pending.subarray(start);
      pending = EMPTY;
      start = 0;
      return rest;
    },
  };
}

/** `line` without a `\r` at its end: input typed or saved on Windows ends lines with `\r\n`. */
export function withoutCarriageReturn(line: Uint8Array): Uint8Array {
  return line.at(-1) === CARRIAGE_RETURN ? line.subarray(0, -1) : line;
}

/** `line` with `\n` after it, in a new array: where the line ends. */
export function withNewline(line: Uint8Array = EMPTY): Uint8Array {
  const ended = new Uint8Array(line.length + 1);
  ended.set(line);
  ended[line.length] = NEWLINE;
  return ended;
}

/** How many `\n` bytes `bytes` holds: how many lines it ends. */
export function countLines(bytes: Uint8Array): number {
  let count = 0;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) count++;
  return count;
}

/**
 * Turns `\r\n` into `\n` in a stream that arrives in chunks, so piped lines go out as typed
 * lines do. A `\r` at the end of a chunk waits for the next one; if none comes, it is dropped.
 */
export interface LineEndingFilter {
  /** `chunk` with every `\r\n` as `\n`. */
  push(chunk: Uint8Array): Uint8Array;
  /** False when the bytes so far end inside a line: the caller then ends it, as `input()` would. */
  readonly atLineStart: boolean;
}

/** A new `LineEndingFilter`. */
export function lineEndingFilter(): LineEndingFilter {
  let heldReturn = false; // the last chunk ended with "\r": is it part of a "\r\n"?
  let endsLine = true;
  return {
    push(chunk) {
      let bytes = heldReturn ? concat([new Uint8Array([CARRIAGE_RETURN]), chunk]) : chunk;
      heldReturn = bytes.at(-1) === CARRIAGE_RETURN;
      if (heldReturn) bytes = bytes.subarray(0, -1);
      if (bytes.includes(CARRIAGE_RETURN)) {
        bytes = bytes.filter((byte, i) => byte !== CARRIAGE_RETURN || bytes[i + 1] !== NEWLINE);
      }
      if (bytes.length > 0) endsLine = bytes.at(-1) === NEWLINE;
      return bytes;
    },
    get atLineStart() {
      return endsLine && !heldReturn;
    },
  };
}
