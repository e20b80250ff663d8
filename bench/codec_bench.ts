/**
 * Codec micro-benchmarks (`deno bench`). Each group is one input: 100 B, 64 KiB and 1 MiB of
 * ASCII, then 1 MiB of Korean, mixed text and bytes that are not UTF-8. Its baseline row is the
 * floor: for ASCII the plainest loop that flips a-z in place, which no codec can beat by much;
 * for the others, where that loop would be wrong, `TextEncoder(TextDecoder(bytes).toUpperCase())`.
 * Then `upperCaseInPlace`, `upperCase`, and a stream fed 64 KiB chunks. Rows that work in place
 * first copy the input back into their buffer (as a datagram or a read lands in one); the floor
 * does the same, so the copy is in both sides of each ratio.
 *
 * @module
 */
import { upperCase, upperCaseInPlace, upperCaseStream } from "../shared/codec.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function repeatTo(text: string, size: number): Uint8Array {
  const piece = encoder.encode(text);
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += piece.length) out.set(piece.subarray(0, size - at), at);
  return out;
}

const ASCII = "hello world, this is the socket tutorial. ";
const inputs: { name: string; input: Uint8Array; ascii: boolean }[] = [
  { name: "100 B ASCII", input: repeatTo(ASCII, 100), ascii: true },
  { name: "64 KiB ASCII", input: repeatTo(ASCII, 64 * KiB), ascii: true },
  { name: "1 MiB ASCII", input: repeatTo(ASCII, MiB), ascii: true },
  { name: "1 MiB Korean", input: repeatTo("안녕하세요 소켓 통신 세계 ", MiB), ascii: false },
  { name: "1 MiB mixed", input: repeatTo("hello 안녕 straße ΐ привет 😀 ", MiB), ascii: false },
  {
    name: "1 MiB invalid bytes",
    input: (() => {
      const bytes = repeatTo("abc ", MiB);
      for (let i = 0; i < MiB; i += 7) bytes[i] = 0xff;
      return bytes;
    })(),
    ascii: false,
  },
];

for (const { name, input, ascii } of inputs) {
  const buffer = input.slice(); // the receive buffer: each in-place run starts from the input
  Deno.bench({
    name: ascii
      ? `floor: a-z flipped in place, ${name}`
      : `TextDecoder + toUpperCase + TextEncoder, ${name}`,
    group: name,
    baseline: true,
    fn: ascii
      ? () => {
        buffer.set(input);
        for (let i = 0; i < buffer.length; i++) {
          if (buffer[i] >= 0x61 && buffer[i] <= 0x7a) buffer[i] ^= 0x20;
        }
      }
      : () => void encoder.encode(decoder.decode(input).toUpperCase()),
  });
  Deno.bench({
    name: `upperCaseInPlace, ${name}`,
    group: name,
    fn: () => {
      buffer.set(input);
      upperCaseInPlace(buffer);
    },
  });
  Deno.bench({ name: `upperCase, ${name}`, group: name, fn: () => void upperCase(input) });
  const stream = upperCaseStream();
  Deno.bench({
    name: `upperCaseStream, 64 KiB chunks, ${name}`,
    group: name,
    fn: () => {
      buffer.set(input);
      for (let at = 0; at < buffer.length; at += 64 * KiB) {
        stream.upperCaseInPlace(buffer.subarray(at, at + 64 * KiB));
      }
      stream.flush();
    },
  });
}
