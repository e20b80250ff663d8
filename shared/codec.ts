/**
 * The codec all four scripts share: UTF-8 bytes in, upper-cased UTF-8 bytes out, as Python's
 * `data.decode("utf-8", "surrogateescape").upper().encode(...)` gives them: `ß` becomes `SS`, and
 * bytes that are not UTF-8 pass unchanged, where the tutorial's `data.decode()` raises.
 * @example
 * ```ts
 * upperCase(new TextEncoder().encode("straße")); // the bytes of "STRASSE"
 * ```
 * @module
 */

const decoder = new TextDecoder("utf-8", { ignoreBOM: true }); // a BOM stays in the text
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
/** Upper-cases a whole message in the caller's buffer (where a datagram or a read landed): returns
 * `bytes`, a part of it if it shrank (`ı` → `I`), a new array if it grew (`ß` → `SS`). */
export function upperCaseInPlace(bytes: Uint8Array): Uint8Array {
  let i = 0;
  // Short ASCII, the common message, in the plainest loop there is; from 512 bytes on, V8's
  // toUpperCase and encoder are 2-3 times faster, even for ASCII.
  if (bytes.length < 512) {
    for (let byte; i < bytes.length && (byte = bytes[i]) < 0x80; i++) {
      if (byte >= 0x61 && byte <= 0x7a) bytes[i] = byte ^ 0x20; // a-z loses its 0x20 bit
    }
    if (i === bytes.length) return bytes;
  }
  const text = decoder.decode(i ? bytes.subarray(i) : bytes);
  // U+FFFD stands for bytes that are not UTF-8 (or is itself in the text; rare either way).
  if (text.includes("\ufffd")) return upperCaseAroundInvalid(bytes);
  return upperCaseText(bytes, text, i);
}
/** Upper-cases `bytes` from `from` on (UTF-8 that decodes to `text`), in place while it fits. */
function upperCaseText(bytes: Uint8Array, text = decoder.decode(bytes), from = 0): Uint8Array {
  const upper = text.toUpperCase();
  if (upper === text) return bytes;
  const { read, written } = encoder.encodeInto(upper, bytes.subarray(from));
  if (read === upper.length) return bytes.subarray(0, from + written);
  return concat([bytes.subarray(0, from), encoder.encode(upper)]); // it grew past its bytes
}
/** Upper-cases a whole message into a new array; `bytes` is left as it was. */
export const upperCase = (bytes: Uint8Array): Uint8Array => upperCaseInPlace(bytes.slice());
/** Upper-cases a byte stream that arrives in chunks, such as a TCP connection: its output,
 * concatenated, equals `upperCase` of the whole input. */
export class UpperCaseStream {
  #held = EMPTY;
  /** `upperCaseInPlace` for a chunk; a character cut off at its end is held for the next. */
  upperCaseInPlace(chunk: Uint8Array): Uint8Array {
    const input = this.#held.length ? concat([this.#held, chunk]) : chunk; // split character (rare)
    let lead = input.length - 1; // the last character's first byte: back over 10xxxxxx bytes
    while (lead > 0 && lead > input.length - 4 && (input[lead] & 0xc0) === 0x80) lead--;
    const complete = lead >= 0 && charLength(input, lead) === -1 ? lead : input.length;
    this.#held = complete === input.length ? EMPTY : input.slice(complete); // chunk is reused
    return upperCaseInPlace(input.subarray(0, complete));
  }
  /** Releases the held bytes unchanged: the stream ended inside a character. */
  flush(): Uint8Array {
    const released = this.#held;
    this.#held = EMPTY;
    return released;
  }
  /** The bytes held for the next chunk: the start of a character cut off at the last one's end. */
  get held(): Uint8Array {
    return this.#held;
  }
}
/** Starts an `UpperCaseStream`. */
export const upperCaseStream = (): UpperCaseStream => new UpperCaseStream();
/** The length of the UTF-8 character at `i` by the rules of Python's strict decoder, 1 to 4; 0 when
 * no character starts there, -1 when `bytes` ends inside one that later bytes could complete. */
export function charLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i];
  if (lead < 0xc2 || lead > 0xf4) return lead < 0x80 ? 1 : 0; // ASCII, or no character's start
  const length = lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
  // The second byte's range shuts out overlong forms (E0, F0), UTF-16 surrogates (ED) and code
  // points past U+10FFFF (F4); the others are 10xxxxxx.
  const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
  const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
  for (let k = 1; k < length; k++) {
    if (i + k >= bytes.length) return -1;
    const byte = bytes[i + k];
    if (k === 1 ? byte < low || byte > high : (byte & 0xc0) !== 0x80) return 0;
  }
  return length;
}
/** Each run of characters upper-cased, and each byte between them that is not UTF-8 as it was. */
function upperCaseAroundInvalid(bytes: Uint8Array): Uint8Array {
  const parts = [];
  let copied = 0; // how much of `bytes` is in `parts` already
  for (let i = 0, end = 0; i < bytes.length; i = end) {
    let ascii = true;
    for (let length; end < bytes.length && (length = charLength(bytes, end)) > 0; end += length) {
      if (length > 1) ascii = false;
      else if (bytes[end] >= 0x61 && bytes[end] <= 0x7a) bytes[end] ^= 0x20;
    }
    if (end === i) end++; // a byte that is not UTF-8: left as it is
    else if (!ascii) {
      const chars = bytes.subarray(i, end);
      const upper = upperCaseText(chars);
      if (upper.length !== chars.length) { // from here on, a new array
        parts.push(bytes.subarray(copied, i), upper);
        copied = end;
      }
    }
  }
  return parts.length ? concat([...parts, bytes.subarray(copied)]) : bytes;
}
/** One new array holding `parts` one after another. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
