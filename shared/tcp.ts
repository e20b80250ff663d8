/**
 * The TCP machinery behind `tcp/server.ts` and `tcp/client.ts`: listen and serve every client
 * at once without letting one of them stop the server, read a byte stream, write all of a
 * reply, and cut a client's incoming stream back into one reply per message.
 *
 * @example
 * ```ts
 * import { listenTcp, receive, send, serveConnections } from "./tcp.ts";
 * import { createLog } from "./log.ts";
 * const log = createLog("echo");
 * const listener = listenTcp({ host: "127.0.0.1", port: 0 }, log);
 * await serveConnections(listener, { once: false, log }, async (conn) => {
 *   for await (const data of receive(conn)) await send(conn, data);
 * });
 * ```
 * @module
 */
import { announceListening, formatAddress } from "./address.ts";
import { concat, writeAll } from "./bytes.ts";
import { describePeerError, isClosedSocket, type Target } from "./errors.ts";
import type { Log } from "./log.ts";
import { onShutdown } from "./main.ts";
import { within } from "./timing.ts";
import { trace, tracing } from "./trace.ts";

/** Binds, listens and announces it on stdout: `listening on tcp://127.0.0.1:5005`. */
export function listenTcp(target: Target, log: Log): Deno.TcpListener {
  const listener = Deno.listen({ hostname: target.host, port: target.port, transport: "tcp" });
  if (tracing) trace("bind+listen", formatAddress(listener.addr), "none", undefined, "Deno.listen");
  announceListening("tcp", listener.addr, log);
  return listener;
}

/** Connects to a server; the failure (refused, unreachable) is the caller's to report. */
export async function connectTcp(target: Target): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: target.host, port: target.port, transport: "tcp" });
  conn.setNoDelay(true);
  if (tracing) {
    trace(
      "connect",
      `${label(conn)} ${formatAddress(conn.remoteAddr)}`,
      "none",
      undefined,
      "Deno.connect",
    );
  }
  return conn;
}

export interface ServeOptions {
  /** Serve one connection, then stop listening and return (the tutorial's server). */
  once: boolean;
  log: Log;
  /** Connections served at once; one more is closed straight after accept, with a log line. */
  maxConnections?: number;
  /** Seconds a connection may send nothing before it is closed; 0 or absent: no limit. */
  idleTimeout?: number;
  /** Seconds open connections get to finish after Ctrl-C or SIGTERM before they are closed. */
  grace?: number;
}

/** What the server keeps about one open connection. */
interface Connection {
  conn: Deno.TcpConn;
  peer: string;
  /** True while the server waits for the peer: every reply so far has been written. */
  waiting: boolean;
  /** Set by a shutdown: `receive` ends after the reply in hand, or at once when waiting. */
  draining: boolean;
  idleMs: number;
}

/** Lets `receive` find the server's view of a connection without changing its signature. */
const connections = new WeakMap<Deno.Conn, Connection>();

/** A connection that sent nothing for longer than `--idle-timeout`. */
class IdleTimeout extends Error {
  override name = "IdleTimeout";
}

/**
 * The server is shutting down: `receive` stops reading. Thrown rather than ending the stream
 * normally, so the handler does not release a character held back for bytes it will now
 * never read (that would send them un-upper-cased).
 */
class ShuttingDown extends Error {
  override name = "ShuttingDown";
}

/**
 * Accepts connections until the listener closes and runs `handle` on each one without
 * waiting for it, so every client is served at the same time. Whatever happens inside one
 * connection is logged in one line and ends only that connection, which is then closed.
 * A failed accept (a client that reset before it was accepted, too many open files) is
 * logged and the loop goes on: a plain `for await (const conn of listener)` would end there.
 *
 * Ctrl-C or SIGTERM closes the listener at once; connections waiting for their peer get a
 * clean end of stream after their last reply, busy ones finish the reply in hand, and after
 * `grace` seconds whatever is still open is closed.
 */
export async function serveConnections(
  listener: Deno.TcpListener,
  { once, log, maxConnections = Infinity, idleTimeout = 0, grace = 2 }: ServeOptions,
  handle: (conn: Deno.TcpConn) => Promise<void>,
): Promise<void> {
  const open = new Set<Connection>();
  let allClosed = () => {};
  let shuttingDown: Promise<void> | undefined;
  const drain = async () => {
    listener.close();
    if (open.size === 0) return;
    log.notice(`shutting down: ${open.size} connection(s) get up to ${grace} s to finish`);
    const closed = new Promise<void>((resolve) => allClosed = resolve);
    for (const connection of open) {
      connection.draining = true;
      if (connection.waiting) closeWriteQuietly(connection.conn);
    }
    await within(closed, grace * 1000);
    for (const { conn } of open) close(conn);
  };
  onShutdown(() => shuttingDown = drain());
  const forget = (connection: Connection) => {
    open.delete(connection);
    if (open.size === 0) allClosed();
  };
  while (true) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch (error) {
      // Closed by a shutdown: returning ends the script, so first let the connections finish.
      if (isClosedSocket(error)) return await shuttingDown;
      if (error instanceof Deno.errors.NotConnected) {
        log.info("a client reset its connection before it was accepted");
        continue;
      }
      log.warn(`accept failed: ${describePeerError(error)}; still listening`);
      // Out of file descriptors: give closing connections a moment before trying again.
      if (/too many open files/i.test(String(error))) await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    const peer = formatAddress(conn.remoteAddr);
    if (tracing) trace("accept", `${label(conn)} ${peer}`, "none", undefined, "listener.accept");
    if (open.size >= maxConnections) {
      log.warn(`${peer} turned away: already ${open.size} connections (--max-connections)`);
      close(conn);
      continue;
    }
    const connection = { conn, peer, waiting: false, draining: false, idleMs: idleTimeout * 1000 };
    open.add(connection);
    connections.set(conn, connection);
    const served = serveOne(connection, log, handle).finally(() => forget(connection));
    if (once) {
      listener.close();
      return await served;
    }
  }
}

async function serveOne(
  connection: Connection,
  log: Log,
  handle: (conn: Deno.TcpConn) => Promise<void>,
): Promise<void> {
  const { conn, peer } = connection;
  log.info(`${peer} connected`);
  try {
    conn.setNoDelay(true);
    try {
      await handle(conn);
      log.info(`${peer} closed`);
    } catch (error) {
      if (!(error instanceof ShuttingDown)) throw error;
      await finishDraining(conn);
      log.info(`${peer} closed by the shutdown`);
    }
  } catch (error) {
    if (error instanceof IdleTimeout) log.info(`${peer} ${error.message}; closed (--idle-timeout)`);
    else if (!isClosedSocket(error)) log.warn(`${peer} ${describePeerError(error)}`);
  } finally {
    close(conn);
  }
}

/**
 * After the last reply of a shutdown: end our side, then read until the peer ends its side, so
 * closing does not throw away replies the peer has not read yet (closing with unread input
 * sends a reset, and the peer's system may discard what it had not yet delivered).
 */
async function finishDraining(conn: Deno.TcpConn): Promise<void> {
  if (tracing) {
    trace("shutdown", label(conn), "none", undefined, "closeWrite", "(SHUT_WR: no more replies)");
  }
  closeWriteQuietly(conn);
  const discard = new Uint8Array(16 * 1024);
  while ((await conn.read(discard)) !== null) {
    // the peer's late bytes: too late to answer
  }
}

function closeWriteQuietly(conn: Deno.TcpConn): void {
  conn.closeWrite().catch(() => {
    // already closed, or the peer is gone: the close that follows cleans up
  });
}

/** How long a held, unfinished character may wait for its last bytes before it is released. */
export const PAUSE_MS = 250;
const PAUSED = new Uint8Array(0);

/** Anything that can say whether it is holding bytes back, such as an `UpperCaseStream`. */
export interface Holder {
  readonly pending: number;
}

/**
 * Yields what arrives on `conn`, chunk by chunk, until the peer closes its side. TCP is a
 * byte stream: a chunk can hold part of a message or several. While `holder` holds bytes
 * back, a pause of `PAUSE_MS` in the stream yields an empty chunk, so they can be released.
 * On a server, it throws when the server shuts down and after `--idle-timeout`.
 * Each chunk lives in a reused buffer: use it before asking for the next one.
 */
export async function* receive(conn: Deno.Conn, holder?: Holder): AsyncGenerator<Uint8Array> {
  const connection = connections.get(conn);
  const buffer = new Uint8Array(64 * 1024);
  let reading: Promise<number | null> | undefined;
  while (true) {
    if (connection?.draining) throw new ShuttingDown();
    reading ??= conn.read(buffer);
    const pausing = holder !== undefined && holder.pending > 0;
    const limit = pausing ? PAUSE_MS : connection?.idleMs ?? 0;
    if (connection) connection.waiting = true;
    const count = limit > 0 ? await within(reading, limit) : await reading;
    if (connection) connection.waiting = false;
    if (count === undefined) {
      if (pausing) {
        yield PAUSED; // the read goes on; the next turn awaits it again
        continue;
      }
      reading.catch(() => {}); // closing the connection ends this read
      throw new IdleTimeout(`sent nothing for ${connection!.idleMs / 1000} s`);
    }
    reading = undefined;
    if (connection?.draining) throw new ShuttingDown();
    if (count === null) {
      if (tracing) trace("recv", label(conn), "in", PAUSED, "read", "(the peer closed its side)");
      return;
    }
    if (tracing) trace("recv", label(conn), "in", buffer.subarray(0, count), "read");
    yield buffer.subarray(0, count);
  }
}

/** Python's `sock.send`, but sends every byte: one `write` may take only part of a buffer. */
export async function send(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  if (bytes.length === 0) return;
  if (tracing) trace("send", label(conn), "out", bytes, "write");
  await writeAll(conn, bytes);
}

/** Gathers what is sent during one turn of the event loop into one write. */
export interface BatchedSender {
  /** Queues `bytes`; they go out, with everything else queued meanwhile, as soon as the
   * script waits for anything (a reply, more input). Throws if an earlier write failed. */
  send(bytes: Uint8Array): void;
  /** Starts writing whatever is queued now, without waiting for it. */
  sendQueued(): void;
  /** Writes whatever is queued now and waits until all of it has gone. */
  flush(): Promise<void>;
}

/**
 * A sender for a client with many short messages (a piped file of lines): one write per
 * batch instead of one per line. Its memory is bounded by whatever bounds the messages in
 * flight (the client's window of replies).
 */
export function batchedSender(conn: Deno.Conn): BatchedSender {
  const BATCH_BYTES = 64 * 1024;
  let queued: Uint8Array[] = [];
  let queuedBytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing = Promise.resolve();
  let failure: unknown;
  const writeQueued = () => {
    clearTimeout(timer);
    timer = undefined;
    if (queued.length > 0) {
      const bytes = queued.length === 1 ? queued[0] : concat(queued);
      queued = [];
      queuedBytes = 0;
      writing = writing.then(() => send(conn, bytes));
      writing.catch((error) => void (failure ??= error));
    }
    return writing;
  };
  return {
    send(bytes) {
      if (failure !== undefined) throw failure;
      if (bytes.length === 0) return;
      queued.push(bytes);
      queuedBytes += bytes.length;
      // Sent at the latest when the event loop next turns (say, to wait for more input).
      if (queuedBytes >= BATCH_BYTES) writeQueued();
      else timer ??= setTimeout(writeQueued, 0);
    },
    sendQueued() {
      writeQueued();
    },
    async flush() {
      await writeQueued().catch(() => {});
      if (failure !== undefined) throw failure;
    },
  };
}

/** Python's `sock.close()`; closing twice is harmless. */
export function close(conn: Deno.Conn): void {
  try {
    conn.close();
    if (tracing) trace("close", label(conn), "none", undefined, "close");
  } catch {
    // already closed
  }
}

const labels = new WeakMap<Deno.Conn, string>();
let connectionCount = 0;

/** `#1`, `#2`, ...: connections numbered in the order they were opened, for the trace. */
function label(conn: Deno.Conn): string {
  let name = labels.get(conn);
  if (name === undefined) labels.set(conn, name = `#${++connectionCount}`);
  return name;
}

/** Cuts the bytes a server sends back into replies of known lengths. */
export interface ReplyReader {
  /**
   * The next `length` bytes, however many reads they take. Rejects if the server closes
   * the connection first. Several may be asked for at once; they are served in order.
   */
  next(length: number): Promise<Uint8Array>;
}

export function readReplies(conn: Deno.Conn): ReplyReader {
  const chunks = receive(conn);
  // Bytes received but not yet handed out; joined only once a whole reply is there.
  let parts: Uint8Array[] = [];
  let size = 0;
  const take = async (length: number): Promise<Uint8Array> => {
    while (size < length) {
      const { value, done } = await chunks.next();
      if (done) throw new Error("the server closed the connection before replying");
      parts.push(value.slice());
      size += value.length;
    }
    const joined = parts.length === 1 ? parts[0] : concat(parts);
    parts = joined.length > length ? [joined.subarray(length)] : [];
    size -= length;
    return joined.subarray(0, length);
  };
  // Replies come in the order they were asked for: each `take` starts when the one before
  // it is done, however many are asked for at once.
  let previous: Promise<unknown> = Promise.resolve();
  return {
    next(length) {
      const reply = previous.then(() => take(length));
      previous = reply.catch(() => {});
      return reply;
    },
  };
}
