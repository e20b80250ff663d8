/**
 * Teaching mode: with `--trace`, every socket call prints one line on stderr, named after the
 * Python call the blog post uses, with the bytes involved and the Deno call we make:
 *
 * ```text
 * [udp/server] socket+bind 127.0.0.1:5005                      (Deno.listenDatagram)
 * [udp/server] recvfrom    127.0.0.1:51234 -> 5 B "hello"      (receive)
 * [udp/server] sendto      127.0.0.1:51234 <- 5 B "HELLO"      (send)
 * ```
 *
 * Each call is one `TraceEvent`; `--trace` prints it as such a line, `--trace-json` as one JSON
 * object per line, which `deno task demo` reads from both programs to draw them side by side.
 * Scripts wrap each socket in `traced(...)`, which returns the socket itself when tracing is off,
 * so the hot paths pay nothing. Previews escape bytes that are not text (`\xff`) and are cut so
 * that no line is wider than `TRACE_WIDTH` columns.
 *
 * @example
 * ```ts
 * import { startTracing, traced } from "./trace.ts";
 * startTracing("udp/server", "text");
 * const sock = traced(Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" }));
 * sock.close();
 * ```
 * @module
 */
import { formatAddress } from "./address.ts";
import { paint, writeStderrLine } from "./log.ts";

/** The widest a trace line gets, in terminal columns (Korean characters count two). */
export const TRACE_WIDTH = 100;

/** One call of a script, as both the one-line trace and the demo's diagram show it. */
export interface TraceEvent {
  /** The Python name of the call (`recvfrom`, `accept`, ...), or `input`, `print`, `log`. */
  call: string;
  /** The Deno call that made it (`receive`, `Deno.listen`). */
  deno?: string;
  /** The socket's own address, `127.0.0.1:5005`. */
  local?: string;
  /** The other side's address. */
  peer?: string;
  /** A TCP connection's number in this process, `#1`. */
  conn?: string;
  /** Which way `bytes` went, seen from this script. */
  direction?: "in" | "out";
  /** The bytes that came in or went out (a read's, a datagram's, a line's). */
  bytes?: Uint8Array;
  /** Where in the connection's stream, in its direction, `bytes` start: for ordering by cause. */
  offset?: number;
  /** What else to say: `(the peer closed its side)`, `no reply within 2 s`. */
  note?: string;
}

let format: "off" | "text" | "json" = "off";
let script = "";

/** Turns tracing on for `name` (`udp/server`), as lines of text or of JSON. */
export function startTracing(name: string, as: "text" | "json"): void {
  format = as;
  script = name;
}

/** True while `--trace` or `--trace-json` is on. */
export function isTracing(): boolean {
  return format !== "off";
}

/** Reports one event in the format chosen; does nothing when tracing is off. */
export function trace(event: TraceEvent): void {
  if (format === "json") writeStderrLine(toJson(event));
  else if (format === "text") writeStderrLine(toLine(event));
}

/**
 * `event` as one JSON object: its fields, with `bytes` as `size` and base64 `data`, plus `script`
 * and `time` (milliseconds since the epoch, fractions included).
 */
export function toJson({ bytes, ...event }: TraceEvent): string {
  const time = performance.timeOrigin + performance.now();
  const data = bytes && { size: bytes.length, data: base64(bytes) };
  return JSON.stringify({ time, script, ...event, ...data });
}

/** `event` as one `--trace` line: `[script] call  where arrow size "preview"  (deno call)`. */
export function toLine(event: TraceEvent, name = script): string {
  const { call, conn, peer, local, direction, bytes, note, deno } = event;
  const where = conn ? (peer && !direction ? `${conn} ${peer}` : conn) : (peer ?? local);
  let head = `[${name}] ${call.padEnd(11)}${where ? ` ${where}` : ""}`;
  if (direction) head += direction === "in" ? " ->" : " <-";
  if (bytes) head += ` ${bytes.length.toLocaleString("en-US")} B`;
  if (note) head += ` ${note}`;
  const suffix = deno ? `  (${deno})` : "";
  const room = TRACE_WIDTH - displayWidth(head) - displayWidth(suffix) - 1;
  const body = bytes?.length ? ` ${preview(bytes, room)}` : "";
  return paint(
    direction === "in" ? "cyan" : direction === "out" ? "green" : "dim",
    head + body + suffix,
  );
}

/**
 * The socket itself when tracing is off. With tracing on, a stand-in with the same interface that
 * makes each call and reports it. Wrap a socket right after opening it: that reports its
 * `socket+bind`, `bind+listen` or `connect`.
 */
export function traced<Socket extends Deno.DatagramConn | Deno.TcpListener | Deno.TcpConn>(
  sock: Socket,
): Socket {
  if (format === "off") return sock;
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
  const local = formatAddress(sock.addr);
  trace({ call: "socket+bind", local, deno: "Deno.listenDatagram" });
  return standIn(sock, {
    async receive(buffer?: Uint8Array) {
      const [bytes, address] = await sock.receive(buffer);
      const peer = formatAddress(address);
      trace({ call: "recvfrom", local, peer, direction: "in", bytes, deno: "receive" });
      return [bytes, address];
    },
    async send(bytes: Uint8Array, address: Deno.Addr) {
      const sent = await sock.send(bytes, address);
      const peer = formatAddress(address);
      trace({ call: "sendto", local, peer, direction: "out", bytes, deno: "send" });
      return sent;
    },
    close() {
      trace({ call: "close", local, deno: "close" });
      sock.close();
    },
  });
}

function traceListener(listener: Deno.TcpListener): Deno.TcpListener {
  const local = formatAddress(listener.addr);
  trace({ call: "bind+listen", local, deno: "Deno.listen" });
  return standIn(listener, {
    async accept() {
      return traceConnection(await listener.accept(), "accept");
    },
    close() {
      trace({ call: "close", local, deno: "close" });
      listener.close();
    },
  });
}

let connections = 0;

function traceConnection(con: Deno.TcpConn, opened: "connect" | "accept"): Deno.TcpConn {
  const ends = { conn: `#${++connections}`, local: formatAddress(con.localAddr) };
  const peer = formatAddress(con.remoteAddr);
  trace({
    call: opened,
    ...ends,
    peer,
    deno: opened === "connect" ? "Deno.connect" : "listener.accept",
  });
  let received = 0;
  let sent = 0;
  return standIn(con, {
    async read(buffer: Uint8Array) {
      const count = await con.read(buffer);
      const bytes = buffer.subarray(0, count ?? 0);
      const note = count === null ? "(the peer closed its side)" : undefined;
      trace({
        call: "recv",
        ...ends,
        direction: "in",
        bytes,
        offset: received,
        note,
        deno: "read",
      });
      received += count ?? 0;
      return count;
    },
    async write(bytes: Uint8Array) {
      const count = await con.write(bytes);
      const written = bytes.subarray(0, count);
      trace({
        call: "send",
        ...ends,
        direction: "out",
        bytes: written,
        offset: sent,
        deno: "write",
      });
      sent += count;
      return count;
    },
    closeWrite() {
      const note = "(SHUT_WR: nothing more to send)";
      trace({ call: "shutdown", ...ends, note, deno: "closeWrite" });
      return con.closeWrite();
    },
    close() {
      trace({ call: "close", ...ends, deno: "close" });
      con.close();
    },
  });
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return btoa(binary);
}

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The bytes as a quoted string of at most `room` columns: text as is, with `"`, `\`, `\n` and
 * other controls escaped, each byte that starts no character (not UTF-8, or a character cut off
 * by the read) as `\xff`, and `…` where it is cut.
 */
export function preview(bytes: Uint8Array, room: number): string {
  let text = "";
  let width = 2; // the quotes
  for (let i = 0; i < bytes.length;) {
    const [piece, size] = pieceAt(bytes, i);
    const pieceWidth = displayWidth(piece);
    const limit = i + size < bytes.length ? room - 2 : room; // "…" takes two columns
    if (width + pieceWidth > limit) return `"${text}…"`;
    text += piece;
    width += pieceWidth;
    i += size;
  }
  return `"${text}"`;
}

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
  return ({ 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r" } as Record<number, string>)[code] ?? hex(code);
}

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Columns a string takes in a terminal, counting two for every character from U+1100 (Hangul
 * Jamo) up: that covers Hangul, CJK and emoji (and `…`, as a Korean terminal draws it), and
 * overcounts only rare scripts, which can make a preview shorter but never a line too wide.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const character of text) width += character.codePointAt(0)! >= 0x1100 ? 2 : 1;
  return width;
}
