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
 * Scripts wrap each socket in `traced(...)`, which returns the socket itself when tracing is
 * off, so the hot paths pay nothing. Bytes that are not printable text show as escapes
 * (`\xff`), long payloads are cut, and no line is wider than `TRACE_WIDTH` columns. Colour
 * per direction only when stderr is a terminal and `NO_COLOR` is unset.
 *
 * @example
 * ```ts
 * import { startTracing, traced } from "./trace.ts";
 * startTracing("udp/server");
 * const sock = traced(Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" }));
 * sock.close();
 * ```
 * @module
 */
import { formatAddress } from "./address.ts";
import { paint, writeStderrLine } from "./log.ts";

/** The widest a trace line gets, in terminal columns (Korean characters count two). */
export const TRACE_WIDTH = 100;

let tracing = false;
let prefix = "";

/** Turns tracing on for `script` (the name shown at the start of each line). */
export function startTracing(script: string): void {
  tracing = true;
  prefix = `[${script}]`;
}

/**
 * One trace line: `[script] call  where arrow bytes  (deno call)`. `call` is the Python name
 * (`recvfrom`, `accept`, ...); `where` the peer or connection; `direction` which way bytes
 * went, seen from this script; `bytes`, if given, is shown with its size and a preview cut to
 * fit the line. Does nothing when tracing is off.
 */
export function trace(
  call: string,
  where: string,
  direction: "in" | "out" | "none",
  bytes?: Uint8Array,
  denoCall?: string,
  note?: string,
): void {
  if (!tracing) return;
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
  writeStderrLine(paint(style, head + body + suffix));
}

/**
 * The socket itself when tracing is off. With `--trace`, a stand-in with the same interface
 * that prints one line per call, named after the tutorial's Python call, then makes the call.
 * Wrap a socket right after opening it: that prints its `socket+bind`, `bind+listen` or
 * `connect` line.
 */
export function traced<Socket extends Deno.DatagramConn | Deno.TcpListener | Deno.TcpConn>(
  sock: Socket,
): Socket {
  if (!tracing) return sock;
  if ("receive" in sock) return traceDatagrams(sock) as Socket;
  if ("accept" in sock) return traceListener(sock) as Socket;
  return traceConnection(sock as Deno.TcpConn, "connect") as Socket;
}

/** A stand-in for `target` whose methods in `calls` replace its own; the rest pass through. */
function standIn<T extends object>(target: T, calls: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(target, key) {
      if (Object.hasOwn(calls, key)) return calls[key as keyof T];
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function traceDatagrams(sock: Deno.DatagramConn): Deno.DatagramConn {
  trace("socket+bind", formatAddress(sock.addr), "none", undefined, "Deno.listenDatagram");
  return standIn(sock, {
    async receive(buffer?: Uint8Array) {
      const [data, address] = await sock.receive(buffer);
      trace("recvfrom", formatAddress(address), "in", data, "receive");
      return [data, address];
    },
    send(data: Uint8Array, address: Deno.Addr) {
      trace("sendto", formatAddress(address), "out", data, "send");
      return sock.send(data, address);
    },
    close() {
      trace("close", formatAddress(sock.addr), "none", undefined, "close");
      sock.close();
    },
  });
}

function traceListener(listener: Deno.TcpListener): Deno.TcpListener {
  trace("bind+listen", formatAddress(listener.addr), "none", undefined, "Deno.listen");
  return standIn(listener, {
    async accept() {
      return traceConnection(await listener.accept(), "accept");
    },
    close() {
      trace("close", formatAddress(listener.addr), "none", undefined, "close");
      listener.close();
    },
  });
}

let connections = 0;

function traceConnection(conn: Deno.TcpConn, opened: "connect" | "accept"): Deno.TcpConn {
  const label = `#${++connections}`;
  const denoCall = opened === "connect" ? "Deno.connect" : "listener.accept";
  trace(opened, `${label} ${formatAddress(conn.remoteAddr)}`, "none", undefined, denoCall);
  return standIn(conn, {
    async read(buffer: Uint8Array) {
      const count = await conn.read(buffer);
      if (count === null) trace("recv", label, "in", EMPTY, "read", "(the peer closed its side)");
      else trace("recv", label, "in", buffer.subarray(0, count), "read");
      return count;
    },
    write(bytes: Uint8Array) {
      trace("send", label, "out", bytes, "write");
      return conn.write(bytes);
    },
    closeWrite() {
      trace("shutdown", label, "none", undefined, "closeWrite", "(SHUT_WR: nothing more to send)");
      return conn.closeWrite();
    },
    close() {
      trace("close", label, "none", undefined, "close");
      conn.close();
    },
  });
}

const EMPTY = new Uint8Array(0);

/** `5 B`, `65,507 B`. */
function formatSize(bytes: number): string {
  return `${bytes.toLocaleString("en-US")} B`;
}

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The bytes as a quoted string of at most `room` columns: text as is, with `"`, `\`, `\n` and
 * other controls escaped, each byte that starts no character (not UTF-8, or a character cut
 * off by the read) as `\xff`, and `…` where it is cut.
 */
export function preview(bytes: Uint8Array, room: number): string {
  let text = "";
  let width = 2; // the quotes
  for (let i = 0; i < bytes.length;) {
    const [piece, size] = pieceAt(bytes, i);
    const pieceWidth = displayWidth(piece);
    const limit = i + size < bytes.length ? room - ELLIPSIS_WIDTH : room;
    if (width + pieceWidth > limit) return `"${text}…"`;
    text += piece;
    width += pieceWidth;
    i += size;
  }
  return `"${text}"`;
}

const ELLIPSIS_WIDTH = displayWidth("…"); // two columns, as a Korean terminal draws it

/** The character at `i` as a preview shows it, and its length in bytes. */
function pieceAt(bytes: Uint8Array, i: number): [string, number] {
  const lead = bytes[i];
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  try {
    const character = strict.decode(bytes.subarray(i, i + size));
    if ([...character].length === 1) return [escape(character), size];
  } catch {
    // not a character: shown byte by byte
  }
  return [hex(lead), 1];
}

/** One character as it appears in a preview. */
function escape(character: string): string {
  if (character === '"' || character === "\\") return `\\${character}`;
  const code = character.codePointAt(0)!;
  if (code >= 0x20 && code !== 0x7f) return character;
  return ESCAPES[code] ?? hex(code);
}

const ESCAPES: Record<number, string> = { 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r" };

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Columns a string takes in a terminal, counting two for every character from U+1100 (Hangul
 * Jamo) up: that covers Hangul, CJK and emoji, and overcounts only rare scripts, which can make a
 * preview shorter than it might be but never a line wider than `TRACE_WIDTH`.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const character of text) width += character.codePointAt(0)! >= 0x1100 ? 2 : 1;
  return width;
}
