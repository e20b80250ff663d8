/**
 * The upper-case codec all four scripts share: UTF-8 bytes in, upper-cased UTF-8 bytes out.
 *
 * It produces exactly what Python produces for
 * `data.decode("utf-8", "surrogateescape").upper().encode("utf-8", "surrogateescape")`:
 * every well-formed character is upper-cased with the full Unicode rules (`ß` → `SS`,
 * `ΐ` → `Ϊ́`), caseless scripts such as Hangul are copied, and bytes that are not valid UTF-8
 * pass through unchanged. (The tutorial's `data.decode()` raises on such bytes and takes the
 * server down.)
 *
 * @example
 * ```ts
 * import { upperCase } from "./codec.ts";
 * const bytes = new TextEncoder().encode("straße 안녕");
 * new TextDecoder().decode(upperCase(bytes)); // "STRASSE 안녕"
 * ```
 * @module
 */

/** The most a message can grow: `ΐ` (2 bytes) upper-cases to `Ϊ́` (6 bytes). */
export const MAX_GROWTH = 3;

/** Upper-cases a whole message (a datagram, a line): nothing is held back. */
export function upperCase(bytes: Uint8Array): Uint8Array {
  return convert(bytes, bytes.length, { buffer: EMPTY });
}

/** Upper-cases a byte stream that arrives in chunks, such as a TCP connection. */
export interface UpperCaseStream {
  /**
   * Upper-cases `chunk` and returns the bytes that are ready, in a buffer the stream reuses:
   * they are valid until the next call. A character cut off at the end of the chunk is held
   * back until the next chunk completes it, however long that takes.
   */
  push(chunk: Uint8Array): Uint8Array;
  /** TEMPORARY: push. */
  upperCaseInPlace(chunk: Uint8Array): Uint8Array;
  /** Releases the held bytes unchanged: the stream ended inside a character. */
  flush(): Uint8Array;
  /** How many bytes are held back (0 to 3). */
  readonly pending: number;
}

/** TEMPORARY until the codec rewrite lands: a copy, not in place. */
export const upperCaseInPlace = (bytes: Uint8Array): Uint8Array => upperCase(bytes);

/** Starts a stream whose output, concatenated, equals `upperCase` of the whole input. */
export function upperCaseStream(): UpperCaseStream {
  let held = EMPTY;
  // One output buffer for the whole stream: a server sends each result before it reads on,
  // so memory stays flat and the collector idle.
  const reused = { buffer: EMPTY };
  return {
    push(chunk) {
      const input = held.length === 0 ? chunk : concat([held, chunk]);
      const complete = completeLength(input);
      held = complete === input.length ? EMPTY : input.slice(complete);
      return convert(input, complete, reused);
    },
    upperCaseInPlace(chunk) {
      return this.push(chunk).slice();
    },
    flush() {
      const released = held;
      held = EMPTY;
      return released;
    },
    get pending() {
      return held.length;
    },
  };
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Upper-cases the first `end` bytes of `input` into `out.buffer`, which it replaces with a
 * larger one when it is too small. Bytes that start no well-formed character pass through.
 */
function convert(input: Uint8Array, end: number, out: { buffer: Uint8Array }): Uint8Array {
  if (out.buffer.length < end) out.buffer = new Uint8Array(end);
  // Text that is all ASCII, the common case, goes through V8's own decoder, toUpperCase and
  // encoder: three times faster than the loop below. It is all ASCII when each byte gave one
  // character and none is U+FFFD, the decoder's stand-in for a byte that is not UTF-8. A glance
  // at every 16th byte comes first: text with Korean in it seldom passes, and is spared a
  // decoding that would be thrown away.
  if (mayBeAscii(input, end)) {
    const text = decoder.decode(input.subarray(0, end));
    if (text.length === end && !text.includes("\ufffd")) {
      return out.buffer.subarray(0, encoder.encodeInto(text.toUpperCase(), out.buffer).written);
    }
  }
  // Most characters keep their length: copy everything at once, natively, and write only what
  // changes, until a character whose upper case is longer or shorter (ß → SS) shifts the rest.
  let output = out.buffer;
  output.set(input.subarray(0, end));
  let aligned = true;
  let o = 0;
  for (let i = 0; i < end;) {
    const byte = input[i];
    if (byte < 0x80) {
      const upper = byte >= 0x61 && byte <= 0x7a ? byte ^ 0x20 : byte; // a-z loses its 0x20 bit
      if (upper !== byte || !aligned) output[o] = upper;
      o++;
      i++;
      continue;
    }
    let size = 3;
    let upper: Uint8Array | undefined;
    if (!isCaselessThreeByte(input, i)) { // Hangul, CJK: no case, nothing to look up
      size = characterLength(input, i) || 1; // 1: not UTF-8, passed through as it is
      if (size > 1) upper = upperCaseOf(codePointAt(input, i, size));
    }
    if (upper === undefined) {
      if (!aligned) { for (let k = 0; k < size; k++) output[o + k] = input[i + k]; }
      o += size;
    } else {
      aligned &&= upper.length === size;
      const needed = o + upper.length + (end - i - size);
      if (needed > output.length) output = grow(output, o, needed, out);
      output.set(upper, o);
      o += upper.length;
    }
    i += size;
  }
  return output.subarray(0, o);
}

/** False when one of every 16th byte of the first `end` is not ASCII. */
function mayBeAscii(input: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i += 16) if (input[i] >= 0x80) return false;
  return true;
}

/**
 * True for a well-formed three-byte character on a caseless page (Hangul, CJK), recognised
 * without the general path's calls. Lead bytes E0 and ED have narrower rules for their second
 * byte and are left to the general path.
 */
function isCaselessThreeByte(input: Uint8Array, i: number): boolean {
  const lead = input[i];
  if (lead < 0xe1 || lead > 0xef || lead === 0xed || i + 2 >= input.length) return false;
  const second = input[i + 1];
  if ((second & 0xc0) !== 0x80 || (input[i + 2] & 0xc0) !== 0x80) return false;
  return pageStates[(((lead & 0x0f) << 12) | ((second & 0x3f) << 6)) >> PAGE_BITS] === CASELESS;
}

/**
 * How much of `input` a stream can convert now: all of it, unless it ends inside a character
 * that the next bytes could still complete; that character waits for them.
 */
function completeLength(input: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= input.length; back++) {
    const byte = input[input.length - back];
    if (byte < 0x80) break; // ASCII: complete
    if (byte >= 0xc0) {
      const lead = input.length - back;
      return characterLength(input, lead) === INCOMPLETE ? lead : input.length;
    }
  }
  return input.length;
}

/** What `characterLength` returns for a character that `input` ends inside. */
const INCOMPLETE = 0;

/**
 * The length (2-4) of the well-formed UTF-8 character that starts at `i`, by the same rules as
 * Python's strict decoder (no overlong forms, no surrogates, nothing above U+10FFFF); 1 when
 * the byte at `i` starts none; INCOMPLETE when `input` ends inside a character that the next
 * bytes could still complete.
 */
function characterLength(input: Uint8Array, i: number): number {
  const lead = input[i];
  let continuations = 3;
  let low = lead === 0xf0 ? 0x90 : 0x80; // below: an overlong form
  let high = lead === 0xf4 ? 0x8f : 0xbf; // above: past U+10FFFF
  if (lead >= 0xc2 && lead <= 0xdf) continuations = 1;
  else if (lead >= 0xe0 && lead <= 0xef) {
    continuations = 2;
    if (lead === 0xe0) low = 0xa0; // below: an overlong form
    if (lead === 0xed) high = 0x9f; // above: a UTF-16 surrogate
  } else if (lead < 0xf0 || lead > 0xf4) return 1;
  for (let k = 1; k <= continuations; k++) {
    if (i + k >= input.length) return INCOMPLETE;
    const byte = input[i + k];
    if (byte < low || byte > high) return 1;
    low = 0x80;
    high = 0xbf;
  }
  return continuations + 1;
}

function codePointAt(input: Uint8Array, i: number, size: number): number {
  let codePoint = input[i] & (0xff >> (size + 1));
  for (let k = 1; k < size; k++) codePoint = (codePoint << 6) | (input[i + k] & 0x3f);
  return codePoint;
}

// Which code points change under upper-casing is learned from V8's own `toUpperCase`, one
// page of 128 code points at a time, the first time a page is met. Most pages (Hangul, CJK,
// symbols) have no case at all, and their characters are then copied without a lookup.
const PAGE_BITS = 7;
const UNKNOWN = 0;
const CASELESS = 1;
const pageStates = new Uint8Array(0x110000 >> PAGE_BITS);
const upperCaseBytes = new Map<number, Uint8Array | undefined>();

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

/** CASELESS, or 2 when some code point on `page` has an upper case. */
function classifyPage(page: number): number {
  const first = page << PAGE_BITS;
  for (let codePoint = first; codePoint < first + (1 << PAGE_BITS); codePoint++) {
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue; // surrogates: never decoded
    const character = String.fromCodePoint(codePoint);
    if (character.toUpperCase() !== character) return 2;
  }
  return CASELESS;
}

/** A buffer of at least `needed` bytes in `out`, starting with the `used` bytes of `output`. */
function grow(
  output: Uint8Array,
  used: number,
  needed: number,
  out: { buffer: Uint8Array },
): Uint8Array {
  out.buffer = new Uint8Array(Math.max(needed, output.length * 2));
  out.buffer.set(output.subarray(0, used));
  return out.buffer;
}

/** One new array holding `parts` one after another. */
function concat(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  parts.reduce((offset, part) => (joined.set(part, offset), offset + part.length), 0);
  return joined;
}
