/**
 * The TCP server's bookkeeping, none of it the socket API: the open connections, how each ended,
 * `--max-connections`, `--idle-timeout`, and `--grace` seconds to finish after Ctrl-C. A timeout
 * or a shutdown ends a connection only while it waits for its client, never while it replies.
 * @example
 * ```ts
 * import { createLog } from "../shared/log.ts";
 * const [signal, log] = [new AbortController().signal, createLog("tcp/server")];
 * trackConnections({ maxConnections: 9, idleTimeout: 0, grace: 2, log, signal });
 * ```
 * @module
 */
import { formatAddress } from "../shared/address.ts";
import { describePeerError, isClosedSocket } from "../shared/errors.ts";
import type { Log } from "../shared/log.ts";

/** What a connection's `serve` gets besides the connection. */
export type Client = {
  /**
   * Gives back `read`, a read of the client's bytes: while it waits, `--idle-timeout` may close
   * the connection, and a shutdown ends our side of it (the client then sees the end).
   */
  waitingFor(read: Promise<number | null>): Promise<number | null>;
};

/** The open connections of a TCP server. */
export type Connections = {
  /** Runs `serve` for a new connection, logs how it ended and closes it; past the limit, closes it. */
  serve(conn: Deno.TcpConn, serve: (conn: Deno.TcpConn, client: Client) => Promise<void>): void;
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
  // Per connection: it waits for its client (not replying), and how it ended, if not by itself.
  const open = new Map<Deno.TcpConn, { waiting: boolean; endedBy?: string }>();
  const running = new Set<Promise<void>>();
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener("abort", () => {
    if (open.size === 0) return;
    log.notice(`shutting down: ${open.size} connection(s) get up to ${grace} s to finish`);
    for (const [conn, state] of open) {
      state.endedBy = "closed by the shutdown";
      if (state.waiting) conn.closeWrite().catch(() => {}); // the client sees the end
    }
    graceTimer = setTimeout(() => open.forEach((_, conn) => conn[Symbol.dispose]()), grace * 1000);
  });

  async function run(
    conn: Deno.TcpConn,
    serve: (conn: Deno.TcpConn, client: Client) => Promise<void>,
  ) {
    const peer = formatAddress(conn.remoteAddr);
    const state: { waiting: boolean; endedBy?: string } = { waiting: false };
    open.set(conn, state);
    log.info(`${peer} connected`);
    const idleTimedOut = () => {
      state.endedBy = `sent nothing for ${idleTimeout} s; closed (--idle-timeout)`;
      conn[Symbol.dispose]();
    };
    const client: Client = {
      waitingFor(read) {
        if (signal.aborted) conn.closeWrite().catch(() => {}); // it was replying at Ctrl-C
        state.waiting = true;
        const idle = idleTimeout > 0 ? setTimeout(idleTimedOut, idleTimeout * 1000) : undefined;
        const settled = () => {
          state.waiting = false;
          clearTimeout(idle);
        };
        read.then(settled, settled); // before the caller's own await resumes it
        return read;
      },
    };
    try {
      await serve(conn, client);
      log.info(`${peer} ${state.endedBy ?? "closed"}`);
    } catch (error) {
      if (isClosedSocket(error) || signal.aborted) log.info(`${peer} ${state.endedBy ?? "closed"}`);
      else log.warn(`${peer} ${describePeerError(error)}`);
    } finally {
      conn[Symbol.dispose]();
      open.delete(conn);
    }
  }

  return {
    serve(conn, serve) {
      if (open.size >= maxConnections) {
        const peer = formatAddress(conn.remoteAddr);
        log.warn(`${peer} turned away: already ${open.size} connection(s) (--max-connections)`);
        return conn[Symbol.dispose]();
      }
      const serving = run(conn, serve);
      running.add(serving);
      serving.finally(() => running.delete(serving));
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
      await Promise.all(running);
      clearTimeout(graceTimer);
    },
  };
}
