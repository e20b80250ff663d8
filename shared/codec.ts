/**
 * The upper-case codec all four scripts share: UTF-8 bytes in, upper-cased UTF-8 bytes out.
 *
 * It produces exactly what Python produces for
 * `data.decode("utf-8", "surrogateescape").upper().encode("utf-8", "surrogateescape")`:
 * every well-formed character is upper-cased with the full Unicode rules (`ß` → `SS`,
 * `ΐ` → `Ϊ́`), caseless scripts such as Hangul are copied, and bytes that are not valid UTF-8
 * pass through unchanged. (The tutorial's `data.decode()` raises on such bytes and takes the
 * server down.) ASCII, the common case, never leaves the byte loop.
 *
 * @example
 * ```ts
 * import { upperCase } from "./codec.ts";
 * const bytes = new TextEncoder().encode("straße 안녕");
 * new TextDecoder().decode(upperCase(bytes)); // "STRASSE 안녕"
 * ```
 * @module
 */
import { concat } from "./bytes.ts";

/** The most a message can grow: `ΐ` (2 bytes) upper-cases to `Ϊ́` (6 bytes). */
export const MAX_GROWTH = 3;

/** Upper-cases a whole message (a datagram, a line): nothing is held back. */
export function upperCase(bytes: Uint8Array): Uint8Array {
  return convert(bytes, true).output;
}

/** Upper-cases a byte stream that arrives in chunks, such as a TCP connection. */
export interface UpperCaseStream {
  /**
   * Upper-cases `chunk` and returns the bytes that are ready. A character cut off at the end
   * of the chunk is held back until the next chunk completes it. An empty chunk means the
   * sender paused: the held bytes are released unchanged, so a reader waiting for them is
   * not kept waiting.
   */
  push(chunk: Uint8Array): Uint8Array;
  /** Releases the held bytes unchanged: the stream ended inside a character. */
  flush(): Uint8Array;
  /** How many bytes are held back (0 to 3). */
  readonly pending: number;
}

export interface UpperCaseStreamOptions {
  /**
   * Write every result into one buffer that the stream keeps and reuses, instead of a new
   * array per chunk: a result is then valid only until the next `push`. For a server that
   * sends each result before it reads on, this keeps memory flat and the collector idle.
   */
  reuseOutput?: boolean;
}

/** Starts a stream whose output, concatenated, equals `upperCase` of the whole input. */
export function upperCaseStream(options: UpperCaseStreamOptions = {}): UpperCaseStream {
  let held = EMPTY;
  const scratch = options.reuseOutput ? { buffer: EMPTY } : undefined;
  const flush = (): Uint8Array => {
    const released = held;
    held = EMPTY;
    return released;
  };
  return {
    push(chunk) {
      if (chunk.length === 0) return flush();
      const input = held.length === 0 ? chunk : concat([held, chunk]);
      const { output, consumed } = convert(input, false, scratch);
      held = consumed === input.length ? EMPTY : input.slice(consumed);
      return output;
    },
    flush,
    get pending() {
      return held.length;
    },
  };
}

const EMPTY = new Uint8Array(0);
/** `characterLength` results that are not a length. */
const INVALID = 1;
const INCOMPLETE = 0;

/**
 * Upper-cases `input`. When `final` is false, a well-formed but unfinished character at the
 * end is left unconsumed for the caller to hold; otherwise its bytes pass through as invalid.
 */
function convert(
  input: Uint8Array,
  final: boolean,
  scratch?: { buffer: Uint8Array },
): { output: Uint8Array; consumed: number } {
  const length = input.length;
  let output: Uint8Array = scratch && scratch.buffer.length >= length
    ? scratch.buffer
    : new Uint8Array(length);
  let o = 0;
  let i = 0;
  while (i < length) {
    const byte = input[i];
    if (byte < 0x80) {
      // ASCII: a-z (0x61-0x7a) loses its 0x20 bit, everything else is copied.
      output[o++] = byte >= 0x61 && byte <= 0x7a ? byte ^ 0x20 : byte;
      i++;
      continue;
    }
    const size = characterLength(input, i);
    if (size === INCOMPLETE && !final) break;
    if (size <= INVALID) {
      // Not UTF-8 (or cut off at the very end): the byte passes through, as surrogateescape does.
      output[o++] = byte;
      i++;
      continue;
    }
    const upper = upperCaseOf(codePointAt(input, i, size));
    if (upper === undefined) {
      for (let k = 0; k < size; k++) output[o++] = input[i + k];
    } else {
      const needed = o + upper.length + (length - i - size);
      if (needed > output.length) output = grow(output, o, Math.max(needed, output.length * 2));
      output.set(upper, o);
      o += upper.length;
    }
    i += size;
  }
  if (scratch && output.length > scratch.buffer.length) scratch.buffer = output;
  return { output: output.subarray(0, o), consumed: i };
}

/**
 * The length (2-4) of the well-formed UTF-8 character that starts at `i`, by the same rules as
 * Python's strict decoder (no overlong forms, no surrogates, nothing above U+10FFFF); INVALID
 * when the byte at `i` starts none; INCOMPLETE when the input ends inside a character that the
 * next bytes could still complete.
 */
function characterLength(input: Uint8Array, i: number): number {
  const lead = input[i];
  let continuations: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    continuations = 1;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    continuations = 2;
    if (lead === 0xe0) low = 0xa0; // below: an overlong form
    if (lead === 0xed) high = 0x9f; // above: a UTF-16 surrogate
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    continuations = 3;
    if (lead === 0xf0) low = 0x90; // below: an overlong form
    if (lead === 0xf4) high = 0x8f; // above: past U+10FFFF
  } else {
    return INVALID;
  }
  for (let k = 1; k <= continuations; k++) {
    if (i + k >= input.length) return INCOMPLETE;
    const byte = input[i + k];
    if (byte < low || byte > high) return INVALID;
    low = 0x80;
    high = 0xbf;
  }
  return continuations + 1;
}

function codePointAt(input: Uint8Array, i: number, size: number): number {
  const lead = input[i];
  if (size === 2) return ((lead & 0x1f) << 6) | (input[i + 1] & 0x3f);
  if (size === 3) {
    return ((lead & 0x0f) << 12) | ((input[i + 1] & 0x3f) << 6) | (input[i + 2] & 0x3f);
  }
  return ((lead & 0x07) << 18) | ((input[i + 1] & 0x3f) << 12) | ((input[i + 2] & 0x3f) << 6) |
    (input[i + 3] & 0x3f);
}

// Which code points change under upper-casing is learned from V8's own `toUpperCase`, one
// page of 128 code points at a time, the first time a page is met. Most pages (Hangul, CJK,
// symbols) have no case at all, and their characters are then copied without a lookup.
const PAGE_BITS = 7;
const UNKNOWN = 0;
const CASELESS = 1;
const CASED = 2;
const pageStates = new Uint8Array(0x110000 >> PAGE_BITS);
const upperCaseBytes = new Map<number, Uint8Array | undefined>();
const encoder = new TextEncoder();

/** The UTF-8 bytes of `codePoint` upper-cased, or undefined when it has no upper case. */
function upperCaseOf(codePoint: number): Uint8Array | undefined {
  const page = codePoint >> PAGE_BITS;
  if (pageStates[page] === UNKNOWN) pageStates[page] = classifyPage(page);
  if (pageStates[page] === CASELESS) return undefined;
  if (upperCaseBytes.has(codePoint)) return upperCaseBytes.get(codePoint);
  const character = String.fromCodePoint(codePoint);
  const upper = character.toUpperCase();
  const bytes = upper === character ? undefined : encoder.encode(upper);
  upperCaseBytes.set(codePoint, bytes);
  return bytes;
}

function classifyPage(page: number): number {
  const first = page << PAGE_BITS;
  for (let codePoint = first; codePoint < first + (1 << PAGE_BITS); codePoint++) {
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue; // surrogates: never decoded
    const character = String.fromCodePoint(codePoint);
    if (character.toUpperCase() !== character) return CASED;
  }
  return CASELESS;
}

function grow(output: Uint8Array, used: number, size: number): Uint8Array {
  const larger = new Uint8Array(size);
  larger.set(output.subarray(0, used));
  return larger;
}
