/**
 * The TCP machinery behind `tcp/server.ts` and `tcp/client.ts`: listen and serve every client
 * at once without letting one of them stop the server, read a byte stream, write all of a
 * reply, and cut a client's incoming stream back into one reply per message.
 *
 * @example
 * ```ts
 * import { listenTcp, receive, serveConnections } from "./tcp.ts";
 * import { writeAll } from "./bytes.ts";
 * import { createLog } from "./log.ts";
 * const listener = listenTcp({ host: "127.0.0.1", port: 0 });
 * await serveConnections(listener, { once: false, log: createLog("echo") }, async (conn) => {
 *   for await (const data of receive(conn)) await writeAll(conn, data);
 * });
 * ```
 * @module
 */
import { formatAddress } from "./address.ts";
import { concat } from "./bytes.ts";
import { describePeerError, isClosedSocket, type Target } from "./errors.ts";
import type { Log } from "./log.ts";
import { onShutdown } from "./main.ts";
import { within } from "./timing.ts";

/** Binds, listens and announces it on stdout: `listening on tcp://127.0.0.1:5005`. */
export function listenTcp(target: Target): Deno.TcpListener {
  const listener = Deno.listen({ hostname: target.host, port: target.port, transport: "tcp" });
  console.log(`listening on tcp://${formatAddress(listener.addr)}`);
  return listener;
}

/** Connects to a server; the failure (refused, unreachable) is the caller's to report. */
export async function connectTcp(target: Target): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: target.host, port: target.port, transport: "tcp" });
  conn.setNoDelay(true);
  return conn;
}

export interface ServeOptions {
  /** Serve one connection, then stop listening and return (the tutorial's server). */
  once: boolean;
  log: Log;
}

/**
 * Accepts connections until the listener closes and runs `handle` on each one without
 * waiting for it, so every client is served at the same time. Whatever happens inside one
 * connection is logged in one line and ends only that connection, which is then closed.
 * A failed accept (a client that reset before it was accepted, too many open files) is
 * logged and the loop goes on: a plain `for await (const conn of listener)` would end there.
 */
export async function serveConnections(
  listener: Deno.TcpListener,
  { once, log }: ServeOptions,
  handle: (conn: Deno.TcpConn) => Promise<void>,
): Promise<void> {
  const open = new Set<Deno.TcpConn>();
  onShutdown(() => {
    listener.close();
    for (const conn of open) conn.close();
  });
  while (true) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (isClosedSocket(error)) return;
      if (error instanceof Deno.errors.NotConnected) {
        log.info("a client reset its connection before it was accepted");
        continue;
      }
      log.warn(`accept failed: ${describePeerError(error)}; still listening`);
      // Out of file descriptors: give closing connections a moment before trying again.
      if (/too many open files/i.test(String(error))) await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    const served = serveOne(conn, open, log, handle);
    if (once) {
      listener.close();
      return await served;
    }
  }
}

async function serveOne(
  conn: Deno.TcpConn,
  open: Set<Deno.TcpConn>,
  log: Log,
  handle: (conn: Deno.TcpConn) => Promise<void>,
): Promise<void> {
  const peer = formatAddress(conn.remoteAddr);
  open.add(conn);
  log.info(`${peer} connected`);
  try {
    conn.setNoDelay(true);
    await handle(conn);
    log.info(`${peer} closed`);
  } catch (error) {
    if (!isClosedSocket(error)) log.warn(`${peer} ${describePeerError(error)}`);
  } finally {
    open.delete(conn);
    try {
      conn.close();
    } catch {
      // already closed by shutdown
    }
  }
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
 * Each chunk lives in a reused buffer: use it before asking for the next one.
 */
export async function* receive(conn: Deno.Conn, holder?: Holder): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(64 * 1024);
  let reading: Promise<number | null> | undefined;
  while (true) {
    reading ??= conn.read(buffer);
    const count = holder && holder.pending > 0 ? await within(reading, PAUSE_MS) : await reading;
    if (count === undefined) {
      yield PAUSED; // the read goes on; the next turn awaits it again
      continue;
    }
    reading = undefined;
    if (count === null) return;
    yield buffer.subarray(0, count);
  }
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
