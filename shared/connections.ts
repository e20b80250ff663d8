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

/** The open connections of a TCP server. */
export type Connections = {
  /** Tracks a new connection; past `maxConnections`, closes it, logs why and returns false. */
  admit(conn: Deno.TcpConn): boolean;
  /** Awaits `read`; null, as at the end, when a shutdown came first: too late to answer. */
  waitFor(conn: Deno.TcpConn, read: Promise<number | null>): Promise<number | null>;
  /** Logs how the connection ended (`error` if it failed), closes it and forgets it. */
  end(conn: Deno.TcpConn, error?: unknown): Promise<void>;
  /** Logs a failed accept; out of file descriptors, waits a moment first. */
  acceptFailed(error: unknown): Promise<void>;
  /** Resolves once every connection has ended; after a shutdown, in `grace` seconds at most. */
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
  // Per connection: whether it waits for its client, how it ended, whether our end (FIN) was
  // sent, and whether the client's came.
  type Client = { peer: string; waiting: boolean; endedBy?: string; shut?: boolean; end?: boolean };
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
        closeQuietly(conn);
        return false;
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
        client.end = count === null;
        return signal.aborted ? null : count;
      } finally {
        client.waiting = false;
        if (idle) clearTimeout(idle);
      }
    },
    async end(conn, error) {
      const client = open.get(conn)!;
      // After a shutdown: end our side, then read to the client's end, as closing with unread
      // input would send a reset, which may discard replies the client has not read yet.
      if (signal.aborted) {
        shutDown(conn, client);
        const discard = new Uint8Array(16 * 1024);
        while (!client.end && await conn.read(discard).catch(() => null) !== null);
      }
      if (error === undefined || isClosedSocket(error) || signal.aborted) {
        log.info(`${client.peer} ${client.endedBy ?? "closed"}`);
      } else log.warn(`${client.peer} ${describePeerError(error)}`);
      closeQuietly(conn);
      open.delete(conn);
      if (open.size === 0) noneOpen();
    },
    async acceptFailed(error) {
      if (error instanceof Deno.errors.NotConnected) {
        return log.info("a client reset its connection before it was accepted");
      }
      log.warn(`accept failed: ${describePeerError(error)}; still listening`);
      const outOfFiles = (error as { code?: string }).code === "EMFILE";
      if (outOfFiles) await new Promise((resolve) => setTimeout(resolve, 100));
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
