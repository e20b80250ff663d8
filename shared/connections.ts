/**
 * The TCP server's bookkeeping, none of it the socket API: the open connections, the
 * `--max-connections` limit, `--idle-timeout`, one log line for how each connection ended, and a
 * shutdown that gives open connections `--grace` seconds to finish. An idle timeout or a shutdown
 * ends a connection only while it waits for its client (`waitFor`), never while it replies.
 *
 * @example
 * ```ts
 * import { trackConnections } from "./connections.ts";
 * import { createLog } from "./log.ts";
 * const limits = { maxConnections: 10, idleTimeout: 0, grace: 2, log: createLog("example") };
 * await trackConnections({ ...limits, signal: new AbortController().signal }).allClosed();
 * ```
 * @module
 */
import { formatAddress } from "./address.ts";
import { describePeerError, isClosedSocket } from "./errors.ts";
import type { Log } from "./log.ts";

/**
 * The open connections of a TCP server. `admit` tracks a new one (false, with it closed and a log
 * line, past `maxConnections`). `waitFor` awaits a read of it, during which an idle timeout or a
 * shutdown may end it; bytes that come after a shutdown are too late to answer: null, as at the
 * end. `end`: its handler ended (with `error` if it failed): log how, close, forget; after a
 * shutdown it first ends our side and reads until the client ends its own, since closing with
 * unread input would send a reset that may discard replies not yet read. `acceptFailed` logs a
 * failed accept (and waits a moment when out of file descriptors). `allClosed` resolves once
 * every connection has ended; after a shutdown, `grace` seconds at most.
 */
export type Connections = {
  admit(conn: Deno.TcpConn): boolean;
  waitFor(conn: Deno.TcpConn, read: Promise<number | null>): Promise<number | null>;
  end(conn: Deno.TcpConn, error?: unknown): Promise<void>;
  acceptFailed(error: unknown): Promise<void>;
  allClosed(): Promise<void>;
};

/** Tracks connections within `limits` (`idleTimeout` 0: never); `signal` is Ctrl-C. */
export function trackConnections(limits: {
  maxConnections: number;
  idleTimeout: number;
  grace: number;
  log: Log;
  signal: AbortSignal;
}): Connections {
  const { maxConnections, idleTimeout, grace, log, signal } = limits;
  // Per connection: whether it waits for its client, has had our end (FIN), or the client's.
  type Client = {
    peer: string;
    waiting: boolean;
    endedBy?: string;
    shut?: boolean;
    atEnd?: boolean;
  };
  const open = new Map<Deno.TcpConn, Client>();
  const shutDown = (conn: Deno.TcpConn, client: Client) => {
    if (!client.shut) conn.closeWrite().catch(() => {});
    client.shut = true;
  };
  let noneOpen = () => {};
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener("abort", () => {
    if (open.size === 0) return;
    log.notice(`shutting down: ${open.size} connection(s) get up to ${grace} s to finish`);
    for (const [conn, client] of open) {
      client.endedBy = "closed by the shutdown";
      if (client.waiting) shutDown(conn, client); // the client sees the end
    }
    graceTimer = setTimeout(() => open.forEach((_, conn) => closeQuietly(conn)), grace * 1000);
  });
  return {
    admit(conn) {
      const peer = formatAddress(conn.remoteAddr);
      if (open.size >= maxConnections) {
        log.warn(`${peer} turned away: already ${open.size} connection(s) (--max-connections)`);
        return (closeQuietly(conn), false);
      }
      open.set(conn, { peer, waiting: false });
      log.info(`${peer} connected`);
      return true;
    },
    async waitFor(conn, read) {
      const client = open.get(conn)!;
      if (signal.aborted) shutDown(conn, client); // it was replying at Ctrl-C
      client.waiting = true;
      const idle = idleTimeout > 0 && setTimeout(() => {
        client.endedBy = `sent nothing for ${idleTimeout} s; closed (--idle-timeout)`;
        closeQuietly(conn);
      }, idleTimeout * 1000);
      try {
        const count = await read;
        client.atEnd = count === null;
        return signal.aborted ? null : count;
      } finally {
        client.waiting = false;
        if (idle) clearTimeout(idle);
      }
    },
    async end(conn, error) {
      const client = open.get(conn)!;
      const { peer, endedBy } = client;
      if (signal.aborted) {
        shutDown(conn, client);
        const discard = new Uint8Array(16 * 1024);
        while (!client.atEnd && await conn.read(discard).catch(() => null) !== null) {
          // the client's late bytes: too late to answer
        }
      }
      if (error === undefined || isClosedSocket(error) || signal.aborted) {
        log.info(`${peer} ${endedBy ?? "closed"}`);
      } else log.warn(`${peer} ${describePeerError(error)}`);
      closeQuietly(conn);
      open.delete(conn);
      if (open.size === 0) noneOpen();
    },
    async acceptFailed(error) {
      if (error instanceof Deno.errors.NotConnected) {
        return log.info("a client reset its connection before it was accepted");
      }
      log.warn(`accept failed: ${describePeerError(error)}; still listening`);
      if ((error as { code?: string }).code === "EMFILE") {
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async allClosed() {
      if (open.size > 0) await new Promise<void>((resolve) => noneOpen = resolve);
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
