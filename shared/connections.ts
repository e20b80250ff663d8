/**
 * The TCP server's bookkeeping, none of it the socket API: the open connections, how each ended,
 * `--max-connections`, `--idle-timeout`, and `--grace` seconds to finish after Ctrl-C. A timeout
 * or a shutdown ends a connection only while it waits for its client, never while it replies.
 * @example
 * ```ts
 * import { createLog } from "./log.ts";
 * const [signal, log] = [new AbortController().signal, createLog("tcp/server")];
 * trackConnections({ maxConnections: 9, idleTimeout: 0, grace: 2, log, signal });
 * ```
 * @module
 */
import { formatAddress } from "./address.ts";
import { describePeerError, isClosedSocket } from "./errors.ts";
import type { Log } from "./log.ts";

/** The open connections of a TCP server. */
export type Connections = {
  /** Runs `serve` for a new connection and logs how it ended; past `maxConnections`, closes it. */
  add(conn: Deno.TcpConn, serve: () => Promise<void>): void;
  /** Awaits `read`; null, as at the end, when a shutdown came first: too late to answer. */
  waitFor(conn: Deno.TcpConn, read: Promise<number | null>): Promise<number | null>;
  /** Logs a failed accept; out of file descriptors, waits a moment first. */
  acceptFailed(error: unknown): Promise<void>;
  /** Resolves once every connection has ended; after a shutdown, in `grace` seconds at most. */
  allClosed(): Promise<void>;
};

/** Tracks connections within these limits (`idleTimeout` 0: never); `signal` is Ctrl-C. */
export function trackConnections({ maxConnections, idleTimeout, grace, log, signal }: {
  maxConnections: number;
  idleTimeout: number;
  grace: number;
  log: Log;
  signal: AbortSignal;
}): Connections {
  // Per connection: it waits for its client; how it ended; our FIN was sent; the client's came.
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
    async add(conn, serve) {
      const peer = formatAddress(conn.remoteAddr);
      if (open.size >= maxConnections) {
        log.warn(`${peer} turned away: already ${open.size} connection(s) (--max-connections)`);
        return closeQuietly(conn);
      }
      const client: Client = { peer, waiting: false };
      open.set(conn, client);
      log.info(`${peer} connected`);
      let failure: unknown;
      await serve().catch((error) => failure = error);
      // After a shutdown: end our side, then read to the client's end, as closing with unread
      // input would send a reset, which may discard replies the client has not read yet.
      if (signal.aborted) {
        shutDown(conn, client);
        const discard = new Uint8Array(16 * 1024);
        while (!client.end && await conn.read(discard).catch(() => null) !== null);
      }
      if (failure === undefined || isClosedSocket(failure) || signal.aborted) {
        log.info(`${peer} ${client.endedBy ?? "closed"}`);
      } else log.warn(`${peer} ${describePeerError(failure)}`);
      closeQuietly(conn);
      open.delete(conn);
      if (open.size === 0) noneOpen();
    },
    async waitFor(conn, read) {
      const client = open.get(conn)!;
      if (signal.aborted) shutDown(conn, client); // it was replying at Ctrl-C
      client.waiting = true;
      const idle = idleTimeout > 0 && setTimeout(() => {
        client.endedBy = `sent nothing for ${idleTimeout} s; closed (--idle-timeout)`;
        closeQuietly(conn);
      }, idleTimeout * 1000);
      const count = await read.finally(() => {
        client.waiting = false;
        if (idle) clearTimeout(idle);
      });
      client.end = count === null;
      return signal.aborted ? null : count;
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

/** Closes a connection that an idle timeout or the shutdown may have closed already. */
function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
