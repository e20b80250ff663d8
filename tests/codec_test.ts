import assert from "node:assert/strict";
import { upperCase, upperCaseInPlace, upperCaseStream } from "../shared/codec.ts";
import { concat, decode, encode, randomSource } from "./helpers.ts";

const upper = (text: string) => decode(upperCase(encode(text)));
const bytes = (...values: number[]) => new Uint8Array(values);

/** Feeds a copy of `input` to a stream cut at `cuts` and joins everything it gives back. */
function streamed(input: Uint8Array, cuts: number[]): Uint8Array {
  const stream = upperCaseStream();
  const copy = input.slice(); // upper-cased where it lies
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    parts.push(stream.upperCaseInPlace(copy.subarray(start, cut)));
    start = cut;
  }
  parts.push(stream.flush());
  return concat(parts);
}

Deno.test("upper-cases ASCII letters and leaves digits, punctuation and controls alone", () => {
  assert.deepEqual(upper("hello, World! 123 ~`{}\t\n"), "HELLO, WORLD! 123 ~`{}\t\n");
  const every = new Uint8Array(128).map((_, i) => i);
  const expected = every.map((b) => (b >= 0x61 && b <= 0x7a ? b - 32 : b));
  assert.deepEqual(upperCase(every), expected);
});

Deno.test("leaves Korean unchanged and upper-cases the Latin letters around it", () => {
  assert.deepEqual(upper("안녕하세요 hello 세계"), "안녕하세요 HELLO 세계");
  assert.deepEqual(upper("ㄱㄴㄷ ᄀ 힣"), "ㄱㄴㄷ ᄀ 힣");
});

Deno.test("upper-cases Greek, Cyrillic and accented Latin as Python's str.upper() does", () => {
  assert.deepEqual(upper("αβγ привет élève ñ ÿ"), "ΑΒΓ ПРИВЕТ ÉLÈVE Ñ Ÿ");
  assert.deepEqual(upper("ǆ ǅ"), "Ǆ Ǆ");
});

Deno.test("grows when upper-casing needs more characters: ß becomes SS, ﬃ becomes FFI", () => {
  assert.deepEqual(upper("straße"), "STRASSE");
  assert.deepEqual(upper("ﬃ ŉ"), "FFI ʼN");
});

Deno.test("grows at most threefold, and only for ΐ and ΰ, which become three characters", () => {
  const input = encode("ΐΰ".repeat(1000));
  const output = upperCase(input);
  assert.deepEqual(output.length, input.length * 3);
  // Ι + combining diaeresis + combining acute, Υ + the same two marks
  assert.equal(decode(output.subarray(0, 12)), "\u0399\u0308\u0301\u03a5\u0308\u0301");
});

Deno.test("shrinks when the upper case is shorter: ı becomes I", () => {
  assert.deepEqual(upperCase(encode("ııı")).length, 3);
  assert.deepEqual(upper("ııı"), "III");
});

Deno.test("passes bytes that are not UTF-8 through unchanged", () => {
  const cases = [
    bytes(0xff, 0x61, 0xfe), // bytes that never occur in UTF-8
    bytes(0x80, 0x62, 0xbf), // continuation bytes without a lead
    bytes(0xc0, 0xaf, 0x63), // overlong form of "/"
    bytes(0xe0, 0x80, 0xaf), // overlong three-byte form
    bytes(0xed, 0xa0, 0x80, 0x64), // an encoded UTF-16 surrogate
    bytes(0xf4, 0x90, 0x80, 0x80), // past U+10FFFF
    bytes(0xc3, 0x61), // lead byte followed by ASCII
    bytes(0x65, 0xe2, 0x82), // cut off at the end
  ];
  const expected = [
    bytes(0xff, 0x41, 0xfe),
    bytes(0x80, 0x42, 0xbf),
    bytes(0xc0, 0xaf, 0x43),
    bytes(0xe0, 0x80, 0xaf),
    bytes(0xed, 0xa0, 0x80, 0x44),
    bytes(0xf4, 0x90, 0x80, 0x80),
    bytes(0xc3, 0x41),
    bytes(0x45, 0xe2, 0x82),
  ];
  assert.deepEqual(cases.map(upperCase), expected);
});

Deno.test("upper-cases valid characters right after invalid bytes", () => {
  // E2 82 starts a character that C3 never continues; ß after it is still ß.
  const input = concat([bytes(0xe2, 0x82), encode("ßa"), bytes(0xff), encode("é")]);
  assert.deepEqual(
    upperCase(input),
    concat([bytes(0xe2, 0x82), encode("SSA"), bytes(0xff), encode("É")]),
  );
});

Deno.test("returns an empty message for an empty one", () => {
  assert.deepEqual(upperCase(new Uint8Array(0)), new Uint8Array(0));
});

Deno.test("upper-cases a character split at every point across two reads", () => {
  for (const text of ["aß", "é한b", "ΐ", "😀x", "𐐨", "ǆ"]) {
    const input = encode(text);
    const expected = upperCase(input);
    for (let cut = 0; cut <= input.length; cut++) {
      assert.deepEqual(decode(streamed(input, [cut])), decode(expected), `${text} cut at ${cut}`);
    }
  }
});

Deno.test("upper-cases a four-byte character fed one byte at a time", () => {
  const input = encode("𐐨𐐩a"); // Deseret small letters, four bytes each
  const cuts = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(decode(streamed(input, cuts)), "𐐀𐐁A");
});

Deno.test("holds back an unfinished character until its next bytes or the end of the stream", () => {
  const stream = upperCaseStream();
  assert.deepEqual(stream.upperCaseInPlace(bytes(0x61, 0xc3)), encode("A"));
  assert.deepEqual(stream.upperCaseInPlace(new Uint8Array(0)), new Uint8Array(0)); // still held
  assert.deepEqual(stream.upperCaseInPlace(bytes(0x9f)), encode("SS")); // ß, completed
  assert.deepEqual(stream.upperCaseInPlace(bytes(0xe2, 0x82)), new Uint8Array(0));
  assert.deepEqual(stream.flush(), bytes(0xe2, 0x82));
  assert.deepEqual(stream.flush(), new Uint8Array(0));
});

Deno.test("does not hold back bytes that no later byte could complete", () => {
  const stream = upperCaseStream();
  assert.deepEqual(stream.upperCaseInPlace(bytes(0x61, 0xff)), bytes(0x41, 0xff));
  assert.deepEqual(stream.upperCaseInPlace(bytes(0xe0, 0x80)), bytes(0xe0, 0x80)); // overlong
  assert.deepEqual(stream.flush(), new Uint8Array(0)); // nothing held
});

Deno.test("a stream cut at random places gives the same bytes as the whole message", () => {
  const random = randomSource(7);
  const pieces = ["hello ", "안녕 ", "straße ", "ΐ", "ı", "😀", "\xff", "ǅ", "\n"];
  const text = Array.from({ length: 2000 }, () => pieces[random(pieces.length)]).join("");
  const input = concat([encode(text), bytes(0xff, 0xc3, 0xe2, 0x82, 0x61, 0xf0, 0x9f)]);
  const cuts: number[] = [];
  for (let at = random(7); at < input.length; at += 1 + random(9)) cuts.push(at);
  assert.deepEqual(streamed(input, cuts), upperCase(input));
});

/** `text` in the middle of a larger buffer, as a datagram or a read lands in a receive buffer. */
function received(text: string): Uint8Array {
  const buffer = new Uint8Array(70_000);
  const message = encode(text);
  buffer.set(message, 5);
  return buffer.subarray(5, 5 + message.length);
}

/** Asserts that `result` is `message` itself: the same memory, not a copy. */
function assertSameMemory(result: Uint8Array, message: Uint8Array): void {
  assert.equal(result.buffer, message.buffer);
  assert.equal(result.byteOffset, message.byteOffset);
}

Deno.test("writes the upper case of ASCII and Korean over the message, in its own buffer", () => {
  for (const text of ["hello", "hello ".repeat(10_000), "안녕하세요 hello", "한".repeat(9000)]) {
    const message = received(text);
    const result = upperCaseInPlace(message);
    assertSameMemory(result, message);
    assert.equal(result.length, message.length);
    assert.equal(decode(message), text.toUpperCase());
  }
});

Deno.test("writes a shortened upper case over the start of the message: ı becomes I", () => {
  const message = received("ıa ı 한");
  const result = upperCaseInPlace(message);
  assertSameMemory(result, message);
  assert.equal(decode(result), "IA I 한");
});

Deno.test("moves to a new array only when the upper case outgrows the message", () => {
  const message = received("abc ΐ 한"); // ΐ: 2 bytes become 6
  const result = upperCaseInPlace(message);
  assert.ok(result.buffer !== message.buffer, "a new array");
  assert.equal(decode(result), "ABC \u0399\u0308\u0301 한");
  assert.equal(decode(message).slice(0, 4), "ABC "); // what came before is upper-cased in place
  const balanced = received("ııŉ"); // two bytes saved by ı → I leave room for ŉ → ʼN
  assertSameMemory(upperCaseInPlace(balanced), balanced);
  assert.equal(decode(upperCaseInPlace(received("ııŉ"))), "IIʼN");
  assert.equal(decode(upperCaseInPlace(received("straße"))), "STRASSE"); // ß and SS: 2 bytes each
});

Deno.test("upperCase leaves the message as it was", () => {
  for (const text of ["hello", "hello ".repeat(1000), "straße 안녕", "ıı"]) {
    const message = encode(text);
    upperCase(message);
    assert.equal(decode(message), text);
  }
});

Deno.test("a later call never changes an earlier result", () => {
  const texts = ["hello ", "straße ", "ΐ".repeat(100), "abc", "ı ı", "안녕 abc".repeat(200)];
  const whole = texts.map((text) => upperCase(encode(text)));
  const grown = texts.map((text) => upperCaseInPlace(encode(text)));
  const stream = upperCaseStream();
  const streamed = texts.map((text) => stream.upperCaseInPlace(encode(text)));
  stream.upperCaseInPlace(bytes(0xc3));
  const flushed = stream.flush();
  stream.upperCaseInPlace(encode("ß ".repeat(100)));
  upperCase(encode("ß ".repeat(100)));
  const expected = texts.map((text) => encode(text.toUpperCase()));
  for (const results of [whole, grown, streamed]) assert.deepEqual(results, expected);
  assert.deepEqual(flushed, bytes(0xc3));
});

Deno.test("holds a copy of a cut-off character: the reader may reuse its buffer at once", () => {
  const stream = upperCaseStream();
  const buffer = new Uint8Array(4);
  buffer.set([0x61, 0xea, 0xb0]); // "a", then the first two bytes of 각 (EA B0 81)
  const first = stream.upperCaseInPlace(buffer.subarray(0, 3)).slice();
  buffer.set([0x81, 0x62]); // the next read lands in the same buffer
  const second = stream.upperCaseInPlace(buffer.subarray(0, 2));
  assert.equal(decode(concat([first, second])), "A각B");
});

Deno.test("a message that shrinks, then grows back into line, keeps every byte", () => {
  // ı (2 bytes) becomes I (1), then ß (2) becomes SS: the output lines up with the input again.
  assert.deepEqual(upper("ıß 안녕 abc ıß 한"), "ISS 안녕 ABC ISS 한");
});
