/**
 * Codec micro-benchmarks (`deno bench`): our `upperCase` against the obvious baseline,
 * `TextEncoder(TextDecoder(bytes).toUpperCase())`, on 1 MiB of ASCII, Korean, mixed text and
 * bytes that are not UTF-8. Each group's baseline row gives the ratio.
 *
 * @module
 */
import { upperCase, upperCaseStream } from "../shared/codec.ts";

const SIZE = 1 << 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function repeatTo(text: string): Uint8Array {
  const piece = encoder.encode(text);
  const out = new Uint8Array(SIZE);
  for (let at = 0; at < SIZE; at += piece.length) out.set(piece.subarray(0, SIZE - at), at);
  return out;
}

const inputs: Record<string, Uint8Array> = {
  "ASCII": repeatTo("hello world, this is the socket tutorial. "),
  "Korean": repeatTo("안녕하세요 소켓 통신 세계 "),
  "mixed": repeatTo("hello 안녕 straße ΐ привет 😀 "),
  "invalid bytes": (() => {
    const bytes = repeatTo("abc ");
    for (let i = 0; i < SIZE; i += 7) bytes[i] = 0xff;
    return bytes;
  })(),
};

for (const [name, input] of Object.entries(inputs)) {
  Deno.bench({
    name: `TextDecoder + toUpperCase + TextEncoder, 1 MiB ${name}`,
    group: name,
    baseline: true,
    fn: () => {
      encoder.encode(decoder.decode(input).toUpperCase());
    },
  });
  Deno.bench({ name: `upperCase, 1 MiB ${name}`, group: name, fn: () => void upperCase(input) });
  const stream = upperCaseStream();
  Deno.bench({
    name: `upperCaseStream, 64 KiB chunks of 1 MiB ${name}`,
    group: name,
    fn: () => {
      for (let at = 0; at < SIZE; at += 65536) stream.push(input.subarray(at, at + 65536));
      stream.flush();
    },
  });
}
