/**
 * Teaching mode: each socket call is a `TraceEvent` named after the post's Python call, which
 * `--trace` prints as a line on stderr and `--trace-json` as JSON, for `deno task demo` to draw.
 * @example
 * ```ts
 * startTracing("udp/server", "text");
 * trace({ call: "recvfrom", peer: "127.0.0.1:50000", direction: "in", bytes: new Uint8Array(2) });
 * ```
 * @module
 */
import { formatAddress } from "./address.ts";
import { charLength } from "./codec.ts";
import { paint, writeStderrLine } from "./log.ts";
/** What an event reports: a socket call in the post's words; a reply dropped or sent twice on
 * purpose; `hold`, a character's start a TCP read cut off; `input()`, `print()`; a log line. */
export type Call = typeof CALLS[number];
/** Every `Call`: UDP's, TCP's, then the script's own. */
export const CALLS = [
  ...["socket+bind", "recvfrom", "sendto", "drop", "duplicate"],
  ...["bind+listen", "accept", "connect", "recv", "hold", "send", "shutdown", "close"],
  ...["input", "print", "log"],
] as const;
/** One call, with where it happened and the bytes it moved. */
export type TraceEvent = {
  call: Call;
  deno?: string; // the Deno call
  local?: string;
  peer?: string;
  conn?: string; // a TCP connection's number in this process: `#1`
  direction?: "in" | "out";
  bytes?: Uint8Array;
  offset?: number; // where `bytes` start in a TCP stream, so the demo can match the two sides
  longer?: boolean; // a datagram longer than --recv-size: `bytes` are what the receive took
  note?: string;
};

let tracing: { script: string; as: "text" | "json" } | undefined; // until then, off
let connections = 0; // TCP connections so far, to number them
/** Turns tracing on for `name` (`udp/server`), as lines of text or of JSON. */
export function startTracing(name: string, as: "text" | "json"): void {
  tracing = { script: name, as };
}
/** Reports `event` as tracing is set: a line, a JSON object (`bytes` as base64 `data`), nothing. */
export function trace(event: TraceEvent): void {
  if (!tracing) return; // first: the clients report every line they read and print
  if (tracing.as === "text") return writeStderrLine(toLine(event, tracing.script));
  const time = performance.timeOrigin + performance.now();
  const { bytes, ...rest } = event;
  const data = bytes && { size: bytes.length, data: bytes.toBase64() };
  writeStderrLine(JSON.stringify({ time, script: tracing.script, ...rest, ...data }));
}
/** A `--trace` line, at most 100 columns: `[script] call  where -> size "preview"  (deno call)`. */
export function toLine(event: TraceEvent, name: string): string {
  const { call, conn, peer, local, direction, bytes, note, deno } = event;
  const where = conn ? (peer && !direction ? `${conn} ${peer}` : conn) : (peer ?? local);
  let head = `[${name}] ${call.padEnd(11)}${where ? ` ${where}` : ""}`;
  if (direction) head += direction === "in" ? " ->" : " <-";
  if (bytes) head += ` ${bytes.length.toLocaleString("en-US")} B`;
  if (note) head += ` ${note}`;
  const suffix = deno ? `  (${deno})` : "";
  const room = 100 - displayWidth(head) - displayWidth(suffix) - 1;
  const text = head + (bytes?.length ? ` ${preview(bytes, room)}` : "") + suffix;
  return paint(direction === "in" ? "cyan" : direction === "out" ? "green" : "dim", text);
}
/** `sock`, untouched when tracing is off (free on the hot path); else its calls also report. A
 * datagram socket's receive is reported as `recvfrom(recvSize)` takes it: a longer one, cut. */
export function traced<S extends Deno.DatagramConn | Deno.TcpListener | Deno.TcpConn>(
  sock: S,
  recvSize = Infinity,
): S {
  if (!tracing) return sock;
  if ("receive" in sock) traceDatagrams(sock, formatAddress(sock.addr), recvSize);
  else if ("accept" in sock) traceListener(sock, formatAddress(sock.addr));
  else traceConnection(sock as Deno.TcpConn, "connect", "Deno.connect");
  return sock;
}
/** Reports the first of the calls `names` on `sock`: a socket ends once, however it is closed. */
function reportOnce(sock: object, names: (string | symbol)[], event: TraceEvent) {
  const methods = sock as Record<string | symbol, (() => unknown) | undefined>;
  let reported = false;
  for (const name of names) {
    const call = methods[name]?.bind(sock);
    methods[name] = call && (() => {
      if (!reported) trace(event);
      reported = true;
      return call();
    });
  }
}
const CLOSES = ["close", Symbol.dispose]; // Symbol.dispose: a close() that skips a closed socket

function traceDatagrams(sock: Deno.DatagramConn, local: string, recvSize: number) {
  const receive = sock.receive.bind(sock);
  const send = sock.send.bind(sock);
  trace({ call: "socket+bind", local, deno: "Deno.listenDatagram" });
  sock.receive = async (buffer) => {
    const [bytes, from] = await receive(buffer);
    const event = { call: "recvfrom", local, peer: formatAddress(from), direction: "in" } as const;
    const cut = bytes.length > recvSize ? { longer: true, note: "(longer: cut)" } : {};
    trace({ ...event, ...cut, bytes: bytes.subarray(0, recvSize), deno: "receive" });
    return [bytes, from];
  };
  sock.send = async (bytes, to) => {
    const sent = await send(bytes, to);
    const peer = formatAddress(to);
    trace({ call: "sendto", local, peer, direction: "out", bytes, deno: "send" });
    return sent;
  };
  reportOnce(sock, CLOSES, { call: "close", local, deno: "close" });
}

function traceListener(listener: Deno.TcpListener, local: string) {
  const accept = listener.accept.bind(listener);
  trace({ call: "bind+listen", local, deno: "Deno.listen" });
  listener.accept = async () => traceConnection(await accept(), "accept", "listener.accept");
  reportOnce(listener, CLOSES, { call: "close", local, deno: "close" });
}

function traceConnection(con: Deno.TcpConn, call: "connect" | "accept", deno: string) {
  const read = con.read.bind(con);
  const write = con.write.bind(con);
  const ends = { conn: `#${++connections}`, local: formatAddress(con.localAddr) };
  trace({ call, ...ends, peer: formatAddress(con.remoteAddr), deno });
  let received = 0; // where the next read's bytes start in the stream
  let sent = 0; // and the next write's
  con.read = async (buffer) => {
    const count = await read(buffer);
    const bytes = buffer.subarray(0, count ?? 0);
    const note = count === null ? "(the peer closed its side)" : undefined;
    trace({ call: "recv", ...ends, direction: "in", bytes, offset: received, note, deno: "read" });
    received += bytes.length;
    return count;
  };
  con.write = async (bytes) => {
    const written = bytes.subarray(0, await write(bytes));
    trace({ call: "send", ...ends, direction: "out", bytes: written, offset: sent, deno: "write" });
    sent += written.length;
    return written.length;
  };
  const note = "(SHUT_WR: nothing more to send)"; // a server may call it twice: reported once
  reportOnce(con, ["closeWrite"], { call: "shutdown", ...ends, note, deno: "closeWrite" });
  reportOnce(con, CLOSES, { call: "close", ...ends, deno: "close" });
  return con;
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true }); // a BOM is a character here
const ESCAPES: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };
const hex = (byte: number) => `\\x${byte.toString(16).padStart(2, "0")}`;
/** `bytes` quoted in at most `room` columns: text as is, `"`, `\` and controls escaped, bytes that
 * start no character (not UTF-8, or cut off by the read) as `\xff`, and `…` where it is cut. */
export function preview(bytes: Uint8Array, room: number): string {
  let text = "";
  let width = 2; // the quotes
  for (let i = 0, next = 0; i < bytes.length; i = next) {
    const length = charLength(bytes, i); // 0 or -1: no character starts here; show the byte
    next = i + Math.max(length, 1);
    const char = length > 0 ? decoder.decode(bytes.subarray(i, next)) : "";
    let piece = ESCAPES[char] ?? (char >= " " && char !== "\x7f" ? char : hex(bytes[i]));
    if (char === '"' || char === "\\") piece = `\\${char}`;
    width += displayWidth(piece);
    // `…` takes a column, unless this is the last piece.
    if (width > (next < bytes.length ? room - 1 : room)) return `"${text}…"`;
    text += piece;
  }
  return `"${text}"`;
}
/** Terminal columns of `text`: two for East Asian wide characters (Hangul, CJK, emoji), none for
 * combining marks, one for the rest (`…` included), as terminals draw them. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += WIDE.test(char) ? 2 : COMBINING.test(char) ? 0 : 1;
  return width;
}
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
const COMBINING = /[\u0300-\u036f\u200b-\u200f\ufe00-\ufe0f]/u;
