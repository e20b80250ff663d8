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
   * of the chunk is held back until the next chunk completes it, however long that takes:
   * the result never depends on how the stream was cut or when its pieces came.
   */
  push(chunk: Uint8Array): Uint8Array;
  /** Releases the held bytes unchanged: the stream ended inside a character. */
  flush(): Uint8Array;
  /** How many bytes are held back (0 to 3). */
  readonly pending: number;
}

/** How `upperCaseStream` hands out its results. */
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
  const ascii = convertAscii(input, final, scratch);
  if (ascii) return ascii;
  const length = input.length;
  let output: Uint8Array = scratch && scratch.buffer.length >= length
    ? scratch.buffer
    : new Uint8Array(length);
  // Most text keeps its length when upper-cased: copy all of it at once (natively) and write
  // only the bytes that change. The first character whose upper case has another length
  // (ß → SS, ı → I) shifts everything after it; from there on bytes are copied one by one.
  output.set(input);
  let i = 0;
  while (i < length) {
    const byte = input[i];
    if (byte < 0x80) {
      // ASCII: a-z (0x61-0x7a) loses its 0x20 bit; everything else is already in place.
      if (byte >= 0x61 && byte <= 0x7a) output[i] = byte ^ 0x20;
      i++;
      continue;
    }
    if (isCaselessThreeByte(input, i)) {
      i += 3;
      continue;
    }
    const size = characterLength(input, i);
    if (size === INCOMPLETE && !final) return done(output, i, i, scratch);
    if (size <= INVALID) {
      i++; // not UTF-8: the byte passes through unchanged, as surrogateescape does
      continue;
    }
    const upper = upperCaseOf(codePointAt(input, i, size));
    if (upper !== undefined) {
      if (upper.length !== size) break;
      output.set(upper, i);
    }
    i += size;
  }
  if (i >= length) return done(output, length, length, scratch);

  // Shifted: the output no longer lines up with the input.
  let o = i;
  while (i < length) {
    const byte = input[i];
    if (byte < 0x80) {
      output[o++] = byte >= 0x61 && byte <= 0x7a ? byte ^ 0x20 : byte;
      i++;
      continue;
    }
    if (isCaselessThreeByte(input, i)) {
      output[o] = byte;
      output[o + 1] = input[i + 1];
      output[o + 2] = input[i + 2];
      o += 3;
      i += 3;
      continue;
    }
    const size = characterLength(input, i);
    if (size === INCOMPLETE && !final) break;
    if (size <= INVALID) {
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
  return done(output, o, i, scratch);
}

/** The result of `convert`: `written` bytes of `output`, `consumed` bytes of the input. */
function done(
  output: Uint8Array,
  written: number,
  consumed: number,
  scratch?: { buffer: Uint8Array },
): { output: Uint8Array; consumed: number } {
  if (scratch && output.length > scratch.buffer.length) scratch.buffer = output;
  return { output: output.subarray(0, written), consumed };
}

/**
 * True for a well-formed three-byte character on a caseless page (Hangul, CJK): the bulk of
 * Korean text, recognised without the general path's calls. Lead bytes E0 and ED have
 * narrower rules for their second byte and are left to the general path.
 */
function isCaselessThreeByte(input: Uint8Array, i: number): boolean {
  const lead = input[i];
  if (lead < 0xe1 || lead > 0xef || lead === 0xed || i + 2 >= input.length) return false;
  const second = input[i + 1];
  if ((second & 0xc0) !== 0x80 || (input[i + 2] & 0xc0) !== 0x80) return false;
  return pageStates[(((lead & 0x0f) << 12) | ((second & 0x3f) << 6)) >> PAGE_BITS] === CASELESS;
}

// ASCII, the common case, goes through V8's native decoder, `toUpperCase` and encoder, which
// are several times faster than a JavaScript loop over the bytes. Anything else takes the byte
// loop: for Korean and mixed text it is as fast as the native path or faster, and it is the
// only one that keeps bytes that are not UTF-8.
const latin1 = new TextDecoder("latin1");

/** `convert` for input whose complete part is all ASCII; undefined for anything else. */
function convertAscii(
  input: Uint8Array,
  final: boolean,
  scratch?: { buffer: Uint8Array },
): { output: Uint8Array; consumed: number } | undefined {
  const end = final ? input.length : completeLength(input);
  if (!isAscii(input, end)) return undefined;
  const upper = latin1.decode(input.subarray(0, end)).toUpperCase();
  if (!scratch) return { output: encoder.encode(upper), consumed: end };
  if (scratch.buffer.length < end) scratch.buffer = new Uint8Array(end);
  const { written } = encoder.encodeInto(upper, scratch.buffer);
  return { output: scratch.buffer.subarray(0, written), consumed: end };
}

/** True when the first `end` bytes are all below 0x80; reads four bytes at a time. */
function isAscii(input: Uint8Array, end: number): boolean {
  let i = 0;
  const misaligned = (4 - (input.byteOffset & 3)) & 3;
  for (; i < misaligned && i < end; i++) if (input[i] & 0x80) return false;
  const words = (end - i) >> 2;
  if (words > 0) {
    const view = new Uint32Array(input.buffer, input.byteOffset + i, words);
    for (let w = 0; w < words; w++) if (view[w] & 0x80808080) return false;
    i += words << 2;
  }
  for (; i < end; i++) if (input[i] & 0x80) return false;
  return true;
}

/**
 * Where the held-back tail of `input` starts: at the last character's lead byte when the input
 * ends before that character does and the next bytes could still complete it; otherwise the
 * whole length (nothing to hold; invalid bytes are the byte loop's to pass through).
 */
function completeLength(input: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= input.length; back++) {
    const byte = input[input.length - back];
    if (byte < 0x80) return input.length; // ASCII: complete
    if (byte >= 0xc0) {
      const lead = input.length - back;
      return characterLength(input, lead) === INCOMPLETE ? lead : input.length;
    }
  }
  return input.length;
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
