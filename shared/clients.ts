/**
 * The TCP server's bookkeeping, none of it the socket API: the open connections, the
 * `--max-connections` limit, `--idle-timeout`, one log line for how each connection ended, and
 * a shutdown that lets open connections finish within `--grace` seconds. A connection is ended
 * by an idle timeout or a shutdown only while it waits for its client (`waitFor`), never while
 * it is replying.
 *
 * @example
 * ```ts
 * import { trackClients } from "./clients.ts";
 * import { createLog } from "./log.ts";
 * const signal = new AbortController().signal;
 * const limits = { maxConnections: 10, idleTimeout: 0, grace: 2 };
 * const clients = trackClients({ ...limits, log: createLog("example"), signal });
 * await clients.allClosed(); // at once: nothing was ever open
 * ```
 * @module
 */
import { formatAddress } from "./address.ts";
import { describePeerError, isClosedSocket } from "./errors.ts";
import type { Log } from "./log.ts";

/** The open connections of a TCP server; `trackClients` makes one. */
export interface Clients {
  /** Tracks a new connection; false, with the connection closed and a log line, when full. */
  admit(conn: Deno.TcpConn): boolean;
  /**
   * Awaits `read`, a read of `conn`: while it waits, an idle timeout or a shutdown may end the
   * connection. Bytes that come after a shutdown are too late to answer: null, as at its end.
   */
  waitFor(conn: Deno.TcpConn, read: Promise<number | null>): Promise<number | null>;
  /**
   * The handler of `conn` ended, with `error` if it failed: log how, close, forget it. After a
   * shutdown, it first ends our side and reads until the client ends its own: closing with unread
   * input would send a reset, which may discard replies the client has not read yet.
   */
  end(conn: Deno.TcpConn, error?: unknown): Promise<void>;
  /** A failed accept: logged in one line; waits a moment when out of file descriptors. */
  acceptFailed(error: unknown): Promise<void>;
  /** Resolves once every connection has ended; after a shutdown, `grace` seconds at most. */
  allClosed(): Promise<void>;
}

/**
 * Starts tracking connections: at most `maxConnections` at once; closed after `idleTimeout`
 * seconds of waiting (0: never); when `signal` aborts (Ctrl-C), given `grace` seconds to finish.
 */
export function trackClients(limits: {
  maxConnections: number;
  idleTimeout: number;
  grace: number;
  log: Log;
  signal: AbortSignal;
}): Clients {
  const { maxConnections, idleTimeout, grace, log, signal } = limits;
  const open = new Map<Deno.TcpConn, { peer: string; waiting: boolean; endedBy?: string }>();
  let whenNoneOpen = () => {};
  let graceTimer: ReturnType<typeof setTimeout> | undefined;

  signal.addEventListener("abort", () => {
    if (open.size === 0) return;
    log.notice(`shutting down: ${open.size} connection(s) get up to ${grace} s to finish`);
    for (const [conn, client] of open) {
      client.endedBy = "closed by the shutdown";
      if (client.waiting) conn.closeWrite().catch(() => {}); // the client sees the end
    }
    graceTimer = setTimeout(() => open.forEach((_, conn) => closeQuietly(conn)), grace * 1000);
  });

  return {
    admit(conn) {
      const peer = formatAddress(conn.remoteAddr);
      if (open.size >= maxConnections) {
        log.warn(`${peer} turned away: already ${open.size} connection(s) (--max-connections)`);
        closeQuietly(conn);
        return false;
      }
      open.set(conn, { peer, waiting: false });
      log.info(`${peer} connected`);
      return true;
    },
    async waitFor(conn, read) {
      const client = open.get(conn)!;
      if (signal.aborted) conn.closeWrite().catch(() => {});
      client.waiting = true;
      const idle = idleTimeout > 0 && setTimeout(() => {
        client.endedBy = `sent nothing for ${idleTimeout} s; closed (--idle-timeout)`;
        closeQuietly(conn);
      }, idleTimeout * 1000);
      try {
        const count = await read;
        return signal.aborted ? null : count;
      } finally {
        client.waiting = false;
        clearTimeout(idle || undefined);
      }
    },
    async end(conn, error) {
      const client = open.get(conn)!;
      if (signal.aborted) {
        await conn.closeWrite().catch(() => {});
        const discard = new Uint8Array(16 * 1024);
        while ((await conn.read(discard).catch(() => null)) !== null) {
          // the client's late bytes: too late to answer
        }
      }
      if (error === undefined || isClosedSocket(error) || signal.aborted) {
        log.info(`${client.peer} ${client.endedBy ?? "closed"}`);
      } else log.warn(`${client.peer} ${describePeerError(error)}`);
      closeQuietly(conn);
      open.delete(conn);
      if (open.size === 0) whenNoneOpen();
    },
    async acceptFailed(error) {
      if (error instanceof Deno.errors.NotConnected) {
        return log.info("a client reset its connection before it was accepted");
      }
      log.warn(`accept failed: ${describePeerError(error)}; still listening`);
      // Out of file descriptors: give closing connections a moment before trying again.
      if ((error as { code?: string }).code === "EMFILE") {
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async allClosed() {
      if (open.size > 0) await new Promise<void>((resolve) => whenNoneOpen = resolve);
      clearTimeout(graceTimer);
    },
  };
}

/** Closes a connection that may already be closed (by an idle timeout, a shutdown). */
function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
