/**
 * The TCP server's bookkeeping, none of it the socket API: which connections are open, the
 * `--max-connections` limit, `--idle-timeout`, one log line for how each connection ended, and
 * a shutdown that lets open connections finish within `--grace` seconds.
 *
 * The script tells it when a connection was accepted (`add`) and when its handler ended
 * (`close`). In between, it sets `waitingSince` around each read, so that an idle timeout or a
 * shutdown only interrupts a connection that waits for its client, never one that is replying.
 *
 * @example
 * ```ts
 * import { trackClients } from "./clients.ts";
 * import { createLog } from "./log.ts";
 * const limits = { maxConnections: 10, idleTimeout: 0, grace: 2 };
 * const signal = new AbortController().signal;
 * const clients = trackClients({ ...limits, log: createLog("example"), signal });
 * await clients.allClosed(); // at once: nothing was ever open
 * ```
 * @module
 */
import { formatAddress } from "./address.ts";
import { describePeerError, isClosedSocket } from "./errors.ts";
import type { Log } from "./log.ts";

/** One open connection, as the server keeps it. */
export interface Client {
  /** The connection itself. */
  readonly conn: Deno.TcpConn;
  /** The client's address, `127.0.0.1:51234`, for log lines. */
  readonly peer: string;
  /** Since when (`Date.now()`) the server waits for the client's next bytes; 0 while busy. */
  waitingSince: number;
}

/** The open connections of a TCP server. */
export interface Clients {
  /** Tracks a new connection; undefined, with the connection closed and a log line, when full. */
  add(conn: Deno.TcpConn): Client | undefined;
  /** The handler of `client` ended, with `error` if it failed: log how, close, forget it. */
  close(client: Client, error?: unknown): void;
  /** A failed accept: logged in one line; waits a moment when out of file descriptors. */
  acceptFailed(error: unknown): Promise<void>;
  /**
   * After a shutdown: end our side, then read until the client ends its side. Closing with
   * unread input would send a reset, which may discard replies the client has not yet read.
   */
  finishShutdown(client: Client): Promise<void>;
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
  const open = new Set<Client>();
  const endedBy = new WeakMap<Client, string>();
  const waitingForNoneOpen: Array<() => void> = [];
  let graceTimer: ReturnType<typeof setTimeout> | undefined;

  const sweep = idleTimeout > 0
    ? setInterval(() => {
      const now = Date.now();
      for (const client of open) {
        if (client.waitingSince === 0 || now - client.waitingSince < idleTimeout * 1000) continue;
        endedBy.set(client, `sent nothing for ${idleTimeout} s; closed (--idle-timeout)`);
        closeQuietly(client.conn);
      }
    }, Math.min(250, idleTimeout * 250))
    : undefined;

  signal.addEventListener("abort", () => {
    if (open.size === 0) return;
    log.notice(`shutting down: ${open.size} connection(s) get up to ${grace} s to finish`);
    for (const client of open) {
      endedBy.set(client, "closed by the shutdown");
      if (client.waitingSince !== 0) client.conn.closeWrite().catch(() => {});
    }
    graceTimer = setTimeout(() => {
      for (const client of open) closeQuietly(client.conn);
    }, grace * 1000);
  });

  return {
    add(conn) {
      const peer = formatAddress(conn.remoteAddr);
      if (open.size >= maxConnections) {
        log.warn(`${peer} turned away: already ${open.size} connection(s) (--max-connections)`);
        closeQuietly(conn);
        return undefined;
      }
      const client = { conn, peer, waitingSince: 0 };
      open.add(client);
      log.info(`${peer} connected`);
      return client;
    },
    close(client, error) {
      const ended = endedBy.get(client);
      if (error === undefined || isClosedSocket(error)) {
        log.info(`${client.peer} ${ended ?? "closed"}`);
      } else log.warn(`${client.peer} ${describePeerError(error)}`);
      closeQuietly(client.conn);
      open.delete(client);
      if (open.size === 0) { for (const resolve of waitingForNoneOpen.splice(0)) resolve(); }
    },
    async acceptFailed(error) {
      if (error instanceof Deno.errors.NotConnected) {
        log.info("a client reset its connection before it was accepted");
        return;
      }
      log.warn(`accept failed: ${describePeerError(error)}; still listening`);
      // Out of file descriptors: give closing connections a moment before trying again.
      if (/too many open files/i.test(String(error))) await new Promise((r) => setTimeout(r, 100));
    },
    async finishShutdown(client) {
      await client.conn.closeWrite().catch(() => {});
      const discard = new Uint8Array(16 * 1024);
      while ((await client.conn.read(discard)) !== null) {
        // the client's late bytes: too late to answer
      }
    },
    async allClosed() {
      if (open.size > 0) await new Promise<void>((resolve) => waitingForNoneOpen.push(resolve));
      clearInterval(sweep);
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
