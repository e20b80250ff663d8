/**
 * Teaching mode: with `--trace`, every socket operation prints one line on stderr, named after
 * the Python call the blog post uses, with the bytes involved and the Deno call we make:
 *
 * ```text
 * [udp/server] socket+bind 127.0.0.1:5005                      (Deno.listenDatagram)
 * [udp/server] recvfrom    127.0.0.1:51234 -> 5 B "hello"      (receive)
 * [udp/server] sendto      127.0.0.1:51234 <- 5 B "HELLO"      (send)
 * ```
 *
 * Off by default, and then each hook costs one check of a boolean. Bytes that are not
 * printable text show as escapes (`\xff`), long payloads are cut, and no line is wider than
 * `TRACE_WIDTH` columns. Colour per direction only when stderr is a terminal and `NO_COLOR`
 * is unset.
 *
 * @example
 * ```ts
 * import { startTracing, trace, tracing } from "./trace.ts";
 * startTracing("udp/server");
 * if (tracing) trace("recvfrom", "127.0.0.1:51234", "in", new Uint8Array([104, 105]), "receive");
 * ```
 * @module
 */
import { paint, stderrHasColour, writeStderrLine } from "./log.ts";

/** The widest a trace line gets, in terminal columns (Korean characters count two). */
export const TRACE_WIDTH = 100;

/** True once `--trace` turned tracing on: hooks check it before doing any work. */
export let tracing = false;
let prefix = "";
let colour = false;

export function startTracing(script: string): void {
  tracing = true;
  prefix = `[${script}]`;
  colour = stderrHasColour();
}

/** Which way the bytes went, seen from this script: in (received), out (sent), or neither. */
export type Direction = "in" | "out" | "none";

/**
 * One trace line: `[script] call  where arrow bytes  (deno call)`. `call` is the Python name
 * (`recvfrom`, `accept`, ...); `where` the peer or connection; `bytes`, if given, is shown
 * with its size and a preview cut to fit the line.
 */
export function trace(
  call: string,
  where: string,
  direction: Direction,
  bytes?: Uint8Array,
  denoCall?: string,
  note?: string,
): void {
  const arrow = direction === "in" ? "->" : direction === "out" ? "<-" : "";
  let head = `${prefix} ${call.padEnd(11)} ${where}`;
  if (arrow) head += ` ${arrow}`;
  if (bytes) head += ` ${formatSize(bytes.length)}`;
  if (note) head += ` ${note}`;
  const suffix = denoCall ? `  (${denoCall})` : "";
  let body = "";
  if (bytes && bytes.length > 0) {
    body = " " + preview(bytes, TRACE_WIDTH - displayWidth(head) - displayWidth(suffix) - 1);
  }
  const style = direction === "in" ? "cyan" : direction === "out" ? "green" : "dim";
  writeStderrLine(paint(style, head + body + suffix, colour));
}

/** `5 B`, `65,507 B`. */
export function formatSize(bytes: number): string {
  return `${bytes.toLocaleString("en-US")} B`;
}

/**
 * The bytes as a quoted string of at most `room` columns: printable text as is, `\n` `\t`
 * and other controls escaped, bytes that are not UTF-8 as `\xff`, and `…` where it is cut.
 */
export function preview(bytes: Uint8Array, room: number): string {
  const strict = new TextDecoder("utf-8", { fatal: true });
  let text = "";
  let width = 2; // the quotes
  let i = 0;
  for (; i < bytes.length; i++) {
    const byte = bytes[i];
    let piece: string;
    let size = 1;
    if (byte >= 0x20 && byte < 0x7f) {
      piece = byte === 0x22 ? '\\"' : byte === 0x5c ? "\\\\" : String.fromCharCode(byte);
    } else if (byte < 0x80) {
      piece = ESCAPES[byte] ?? `\\x${hex(byte)}`;
    } else {
      size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      try {
        piece = size > 1 ? strict.decode(bytes.subarray(i, i + size)) : "";
        if ([...piece].length !== 1) throw new Error("not one character");
      } catch {
        piece = `\\x${hex(byte)}`;
        size = 1;
      }
    }
    // Leave a column for "…" unless this is the last piece.
    const limit = i + size < bytes.length ? room - 1 : room;
    if (width + displayWidth(piece) > limit) break;
    text += piece;
    width += displayWidth(piece);
    i += size - 1;
  }
  return i < bytes.length ? `"${text}…"` : `"${text}"`;
}

/** Columns a string takes in a terminal: wide (East Asian) characters take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const character of text) width += isWide(character.codePointAt(0)!) ? 2 : 1;
  return width;
}

const ESCAPES: Record<number, string> = { 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r" };

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

function isWide(codePoint: number): boolean {
  return (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd);
}
