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
 * import { upperCase, upperCaseInPlace } from "./codec.ts";
 * const bytes = new TextEncoder().encode("straße 안녕");
 * new TextDecoder().decode(upperCase(bytes)); // "STRASSE 안녕"
 * const datagram = new TextEncoder().encode("hello");
 * upperCaseInPlace(datagram) === datagram; // true: "HELLO" was written over "hello"
 * ```
 * @module
 */

/** The most a message can grow: `ΐ` (2 bytes) upper-cases to `Ϊ́` (6 bytes). */
export const MAX_GROWTH = 3;

/**
 * Upper-cases a whole message where it lies, in the caller's own buffer (the buffer a datagram
 * or a read landed in): returns `bytes` itself, or a part of it when upper-casing shortened it
 * (ı → I), or a new array only when it grew (ŉ → ʼN, 2 bytes to 3). ASCII and caseless text never
 * allocate.
 */
export function upperCaseInPlace(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= NATIVE_FROM) return convert(bytes, bytes.length);
  // Short ASCII, the common message, in the plainest loop there is; the rest from its first
  // byte that is not ASCII.
  let i = 0;
  for (let byte; i < bytes.length && (byte = bytes[i]) < 0x80; i++) {
    if (byte >= 0x61 && byte <= 0x7a) bytes[i] = byte ^ 0x20; // a-z loses its 0x20 bit
  }
  return i === bytes.length ? bytes : convert(bytes, bytes.length, i);
}

/** Upper-cases a whole message into a new array; `bytes` is left as it was. */
export function upperCase(bytes: Uint8Array): Uint8Array {
  return convert(bytes.slice(), bytes.length);
}

/** Upper-cases a byte stream that arrives in chunks, such as a TCP connection. */
export interface UpperCaseStream {
  /**
   * Upper-cases `chunk` where it lies, as upperCaseInPlace does; a character cut off at its end
   * is copied and held back until the next chunk completes it, however long that takes.
   */
  upperCaseInPlace(chunk: Uint8Array): Uint8Array;
  /** Releases the held bytes unchanged: the stream ended inside a character. */
  flush(): Uint8Array;
  /** How many bytes are held back (0 to 3). */
  readonly pending: number;
}

/** Starts a stream whose output, concatenated, equals `upperCase` of the whole input. */
export function upperCaseStream(): UpperCaseStream {
  let held = EMPTY;
  return {
    upperCaseInPlace(chunk) {
      // The held bytes and the chunk's first make one character: work in a joined copy (rare).
      let input = chunk;
      if (held.length > 0) {
        (input = new Uint8Array(held.length + chunk.length)).set(held),
          input.set(chunk, held.length);
      }
      const complete = completeLength(input);
      held = complete === input.length ? EMPTY : input.slice(complete); // a copy: the caller
      //                                                                     reuses its buffer
      return upperCaseInPlace(complete === input.length ? input : input.subarray(0, complete));
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
 * Upper-cases the first `end` bytes of `bytes` over themselves while no character grows past
 * the bytes it came from; from the first that does, the rest goes to a new array. The `from`
 * bytes before are done already.
 */
function convert(bytes: Uint8Array, end: number, from = 0): Uint8Array {
  // Long all-ASCII text goes through V8's decoder, toUpperCase and encoder: 2-3 times faster
  // than the loop from NATIVE_FROM bytes on. A glance at every 16th byte spares Korean a
  // decoding in vain. It was all ASCII when each byte gave one character and none is U+FFFD
  // (a byte that is not UTF-8); then its upper case has the same length and fits over it.
  if (from === 0 && end >= NATIVE_FROM && mayBeAscii(bytes, end)) {
    const text = decoder.decode(bytes.subarray(0, end));
    if (text.length === end && !text.includes("\ufffd")) {
      encoder.encodeInto(text.toUpperCase(), bytes);
      return end === bytes.length ? bytes : bytes.subarray(0, end);
    }
  }
  let out = bytes;
  let o = from;
  for (let i = from; i < end;) {
    const byte = bytes[i];
    if (byte < 0x80) {
      out[o++] = byte >= 0x61 && byte <= 0x7a ? byte ^ 0x20 : byte; // a-z loses its 0x20 bit
      i++;
      continue;
    }
    let size = 3;
    let upper: Uint8Array | undefined;
    if (!isCaselessThreeByte(bytes, i)) { // Hangul, CJK: no case, nothing to look up
      const codePoint = decodeAt(bytes, i);
      size = codePoint < 0 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
      if (size > 1) upper = upperCaseOf(codePoint); // 1: not UTF-8, passed through as it is
    }
    if (upper === undefined) {
      if (o !== i || out !== bytes) { for (let k = 0; k < size; k++) out[o + k] = bytes[i + k]; }
      o += size;
    } else {
      if (out === bytes && o + upper.length > i + size) { // would overwrite bytes not yet read
        out = new Uint8Array(o + (end - i) * MAX_GROWTH);
        out.set(bytes.subarray(0, o));
      }
      out.set(upper, o);
      o += upper.length;
    }
    i += size;
  }
  return out === bytes && o === bytes.length ? bytes : out.subarray(0, o);
}

const NATIVE_FROM = 512;

function mayBeAscii(bytes: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i += 16) if (bytes[i] >= 0x80) return false;
  return true;
}

/** A well-formed three-byte character on a page without case, found with few tests. */
function isCaselessThreeByte(input: Uint8Array, i: number): boolean {
  const lead = input[i]; // not E0 or ED: their second bytes have narrower ranges
  if (lead < 0xe1 || lead > 0xef || lead === 0xed || i + 2 >= input.length) return false;
  const second = input[i + 1];
  if ((second & 0xc0) !== 0x80 || (input[i + 2] & 0xc0) !== 0x80) return false;
  return pages[(((lead & 0x0f) << 12) | ((second & 0x3f) << 6)) >> PAGE_BITS] === NO_CASE;
}

/** How much of `input` is whole characters (or bytes no later byte could complete). */
function completeLength(input: Uint8Array): number {
  for (let lead = input.length - 1; lead >= 0 && lead >= input.length - 3; lead--) {
    if (input[lead] < 0x80) break; // ASCII: complete
    if (input[lead] >= 0xc0) return decodeAt(input, lead) === INCOMPLETE ? lead : input.length;
  }
  return input.length;
}

const NOT_UTF8 = -1;
const INCOMPLETE = -2;

/**
 * The code point of the UTF-8 character at `i`, by the rules of Python's strict decoder;
 * NOT_UTF8 when the byte at `i` starts none, INCOMPLETE when `input` ends inside a character
 * that the next bytes could still complete.
 */
function decodeAt(input: Uint8Array, i: number): number {
  const lead = input[i];
  const length = lead < 0xc2 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 1;
  if (length === 1) return NOT_UTF8;
  // The second byte's range shuts out overlong forms (E0, F0), UTF-16 surrogates (ED) and
  // code points past U+10FFFF (F4).
  let low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
  let high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
  let codePoint = lead & (0xff >> (length + 1));
  for (let k = 1; k < length; k++) {
    if (i + k >= input.length) return INCOMPLETE;
    const byte = input[i + k];
    if (byte < low || byte > high) return NOT_UTF8;
    codePoint = (codePoint << 6) | (byte & 0x3f);
    low = 0x80;
    high = 0xbf;
  }
  return codePoint;
}

// Which code points change under upper-casing is learned from V8's own `toUpperCase`, a page
// of 128 code points at a time, the first time a page is met: each cased code point's upper
// case in UTF-8, or NO_CASE for a page without any (Hangul, CJK, most symbols).
const PAGE_BITS = 7;
const NO_CASE: (Uint8Array | undefined)[] = [];
const pages: ((Uint8Array | undefined)[] | undefined)[] = Array.from({ length: 0x110000 >> 7 });

function upperCaseOf(codePoint: number): Uint8Array | undefined {
  const page = codePoint >> PAGE_BITS;
  const uppers = pages[page] ??= learnPage(page);
  return uppers === NO_CASE ? undefined : uppers[codePoint & ((1 << PAGE_BITS) - 1)];
}

function learnPage(page: number): (Uint8Array | undefined)[] {
  let uppers = NO_CASE;
  for (let codePoint = page << PAGE_BITS; codePoint < (page + 1) << PAGE_BITS; codePoint++) {
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue; // surrogates: never decoded
    const upper = String.fromCodePoint(codePoint).toUpperCase();
    if (upper === String.fromCodePoint(codePoint)) continue;
    if (uppers === NO_CASE) uppers = [];
    uppers[codePoint & ((1 << PAGE_BITS) - 1)] = encoder.encode(upper);
  }
  return uppers;
}
