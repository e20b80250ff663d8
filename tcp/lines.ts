/**
 * Lines on a byte stream, for the TCP client: a line ends at its `\n`, on the way out and back.
 * @module
 */
import { concat } from "../shared/codec.ts";

const LF = 0x0a; // "\n"
const NEWLINE = Uint8Array.of(LF);

/** `line` with `\n` after it, in a new array: where the line ends. */
export function withNewline(line: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat([line, NEWLINE]);
}

/** How many lines `bytes` ends: its `\n` bytes. */
export function countLines(bytes: Uint8Array): number {
  let count = 0;
  for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, at + 1)) count++;
  return count;
}
