/**
 * Teaching mode. Each socket call is one `TraceEvent`, named after the Python call the post uses;
 * `--trace` prints it as a line on stderr, `--trace-json` as a JSON object, which `deno task demo`
 * reads from both programs to draw them side by side:
 *
 * ```text
 * [udp/server] socket+bind 127.0.0.1:5005  (Deno.listenDatagram)
 * [udp/server] recvfrom    127.0.0.1:51234 -> 5 B "hello"  (receive)
 * [udp/server] sendto      127.0.0.1:51234 <- 5 B "HELLO"  (send)
 * ```
 *
 * `traced(sock)` is the socket itself when tracing is off, so the hot paths pay nothing.
 *
 * @example
 * ```ts
 * import { startTracing, traced } from "./trace.ts";
 * startTracing("udp/server", "text");
 * traced(Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" })).close();
 * ```
 * @module
 */
import { formatAddress } from "./address.ts";
import { paint, writeStderrLine } from "./log.ts";

/** The widest a trace line gets, in terminal columns (Korean characters count two). */
export const TRACE_WIDTH = 100;

/**
 * One call: its Python name (`recvfrom`, `accept`, ...; or `input`, `print`, and `log` for a log
 * line, in `note`), the Deno call, the socket's own address and the other side's, a TCP
 * connection's number in this process (`#1`), the bytes that went `in` or `out` and, on a TCP
 * connection, where they start in its stream (to order the two sides by cause), and a `note`.
 */
export type TraceEvent = {
  call: string;
  deno?: string;
  local?: string;
  peer?: string;
  conn?: string;
  direction?: "in" | "out";
  bytes?: Uint8Array;
  offset?: number;
  note?: string;
};

let format: "off" | "text" | "json" = "off";
let script = "";

/** Turns tracing on for `name` (`udp/server`), as lines of text or of JSON. */
export function startTracing(name: string, as: "text" | "json"): void {
  [format, script] = [as, name];
}

/** Reports `event` as tracing is set: a line, a JSON object (`bytes` as base64 `data`), nothing. */
export function trace(reported: TraceEvent): void {
  if (format === "off") return; // first: the clients report every line they read and print
  if (format === "text") return writeStderrLine(toLine(reported));
  const { bytes, ...event } = reported;
  const data = bytes && { size: bytes.length, data: btoa(Array.from(bytes, byteChar).join("")) };
  const time = performance.timeOrigin + performance.now();
  writeStderrLine(JSON.stringify({ time, script, ...event, ...data }));
}
const byteChar = (byte: number) => String.fromCharCode(byte);

/** `event` as a `--trace` line: `[script] call  where arrow size "preview"  (deno call)`. */
export function toLine(event: TraceEvent, name = script): string {
  const { call, conn, peer, local, direction, bytes, note, deno } = event;
  const where = conn ? (peer && !direction ? `${conn} ${peer}` : conn) : (peer ?? local);
  let head = `[${name}] ${call.padEnd(11)}${where ? ` ${where}` : ""}`;
  if (direction) head += direction === "in" ? " ->" : " <-";
  if (bytes) head += ` ${bytes.length.toLocaleString("en-US")} B`;
  if (note) head += ` ${note}`;
  const suffix = deno ? `  (${deno})` : "";
  const room = TRACE_WIDTH - displayWidth(head) - displayWidth(suffix) - 1;
  const text = head + (bytes?.length ? ` ${preview(bytes, room)}` : "") + suffix;
  return paint(direction === "in" ? "cyan" : direction === "out" ? "green" : "dim", text);
}

/** The socket itself when tracing is off, else a stand-in that makes each call and reports it. */
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
      const [bytes, from] = await sock.receive(buffer);
      const peer = formatAddress(from);
      trace({ call: "recvfrom", local, peer, direction: "in", bytes, deno: "receive" });
      return [bytes, from];
    },
    async send(bytes: Uint8Array, to: Deno.Addr) {
      const sent = await sock.send(bytes, to);
      const peer = formatAddress(to);
      trace({ call: "sendto", local, peer, direction: "out", bytes, deno: "send" });
      return sent;
    },
    close: () => (trace({ call: "close", local, deno: "close" }), sock.close()),
  });
}

function traceListener(listener: Deno.TcpListener): Deno.TcpListener {
  const local = formatAddress(listener.addr);
  trace({ call: "bind+listen", local, deno: "Deno.listen" });
  return standIn(listener, {
    accept: async () => traceConnection(await listener.accept(), "accept"),
    close: () => (trace({ call: "close", local, deno: "close" }), listener.close()),
  });
}

let connections = 0;

function traceConnection(con: Deno.TcpConn, opened: "connect" | "accept"): Deno.TcpConn {
  const ends = { conn: `#${++connections}`, local: formatAddress(con.localAddr) };
  const peer = formatAddress(con.remoteAddr);
  const deno = opened === "connect" ? "Deno.connect" : "listener.accept";
  trace({ call: opened, ...ends, peer, deno });
  const offsets = { in: 0, out: 0 };
  const report = (call: string, direction: "in" | "out", bytes: Uint8Array, note?: string) => {
    const offset = offsets[direction];
    offsets[direction] += bytes.length;
    const deno = call === "recv" ? "read" : "write";
    trace({ call, ...ends, direction, bytes, offset, note, deno });
  };
  return standIn(con, {
    async read(buffer: Uint8Array) {
      const count = await con.read(buffer);
      if (count === null) report("recv", "in", buffer.subarray(0, 0), "(the peer closed its side)");
      else report("recv", "in", buffer.subarray(0, count));
      return count;
    },
    async write(bytes: Uint8Array) {
      const count = await con.write(bytes);
      report("send", "out", bytes.subarray(0, count));
      return count;
    },
    closeWrite() {
      const note = "(SHUT_WR: nothing more to send)";
      trace({ call: "shutdown", ...ends, note, deno: "closeWrite" });
      return con.closeWrite();
    },
    close: () => (trace({ call: "close", ...ends, deno: "close" }), con.close()),
  });
}

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * `bytes` as a quoted string of at most `room` columns: text as is, with `"`, `\`, `\n` and other
 * controls escaped, each byte that starts no character (not UTF-8, or a character cut off by the
 * read) as `\xff`, and `…` (two columns) where it is cut.
 */
export function preview(bytes: Uint8Array, room: number): string {
  let [text, width] = ["", 2]; // 2: the quotes
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i];
    let size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    let piece: string;
    try {
      piece = strict.decode(bytes.subarray(i, i + size));
      if ([...piece].length !== 1) throw piece;
      const code = piece.codePointAt(0)!;
      if (piece === '"' || piece === "\\") piece = `\\${piece}`;
      else if (code < 0x20 || code === 0x7f) piece = ESCAPES[code] ?? hex(code);
    } catch {
      [piece, size] = [hex(lead), 1]; // not a character: shown byte by byte
    }
    const limit = i + size < bytes.length ? room - 2 : room;
    if (width + displayWidth(piece) > limit) return `"${text}…"`;
    [text, width, i] = [text + piece, width + displayWidth(piece), i + size];
  }
  return `"${text}"`;
}

const ESCAPES: Record<number, string> = { 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r" };
const hex = (byte: number) => `\\x${byte.toString(16).padStart(2, "0")}`;

/**
 * Columns `text` takes in a terminal, two for every character from U+1100 (Hangul Jamo) up:
 * Hangul, CJK, emoji (and `…`, as a Korean terminal draws it). It overcounts rare scripts, which
 * can make a preview shorter, never a line too wide.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const character of text) width += character.codePointAt(0)! >= 0x1100 ? 2 : 1;
  return width;
}
