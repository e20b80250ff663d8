/**
 * The UDP machinery behind `udp/server.ts` and `udp/client.ts`: bind, receive every datagram
 * up to the largest UDP payload, send replies that fit, and wait a bounded time for a reply.
 * `Deno.listenDatagram` is behind the unstable `net` flag, which `deno.json` turns on.
 *
 * @example
 * ```ts
 * import { listenUdp, receiveDatagrams, sendDatagram } from "./udp.ts";
 * import { createLog } from "./log.ts";
 * const log = createLog("example");
 * const socket = listenUdp({ host: "127.0.0.1", port: 0 }, log);
 * for await (const [data, address] of receiveDatagrams(socket, log)) {
 *   await sendDatagram(socket, data, address, log);
 * }
 * ```
 * @module
 */
import { announceListening, formatAddress, isIpLiteral } from "./address.ts";
import { describePeerError, isClosedSocket, type Target } from "./errors.ts";
import type { Log } from "./log.ts";
import { within } from "./timing.ts";
import { trace, tracing } from "./trace.ts";

/** The largest payload one IPv4 UDP datagram carries: 65,535 − 8 (UDP) − 20 (IP header). */
export const MAX_DATAGRAM = 65_507;

/** More than any datagram carries (65,507 B over IPv4, 65,527 B over IPv6): nothing is cut. */
const RECEIVE_BUFFER_BYTES = 65_536;

/** Binds a UDP socket and announces it on stdout: `listening on udp://127.0.0.1:5005`. */
export function listenUdp(target: Target, log: Log): Deno.DatagramConn {
  const socket = Deno.listenDatagram({
    hostname: target.host,
    port: target.port,
    transport: "udp",
  });
  if (tracing) {
    trace("socket+bind", formatAddress(socket.addr), "none", undefined, "Deno.listenDatagram");
  }
  announceListening("udp", socket.addr, log);
  return socket;
}

/** Opens a client socket on any free port, of the same family (IPv4/IPv6) as the server. */
export function openUdpClient(server: Target): Deno.DatagramConn {
  const hostname = server.host.includes(":") ? "::" : "0.0.0.0";
  const socket = Deno.listenDatagram({ hostname, port: 0, transport: "udp" });
  if (tracing) {
    trace("socket", formatAddress(socket.addr), "none", undefined, "Deno.listenDatagram");
  }
  return socket;
}

/**
 * Yields each datagram with its sender until the socket is closed. A receive error (one bad
 * datagram) is logged and skipped; the loop never ends because of a peer. The bytes yielded
 * live in a reused buffer: use them before asking for the next datagram.
 */
export async function* receiveDatagrams(
  socket: Deno.DatagramConn,
  log: Log,
): AsyncGenerator<[Uint8Array, Deno.NetAddr]> {
  const buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
  while (true) {
    try {
      const [data, address] = await socket.receive(buffer);
      if (tracing) trace("recvfrom", formatAddress(address), "in", data, "receive");
      yield [data, address as Deno.NetAddr];
    } catch (error) {
      if (isClosedSocket(error)) return;
      log.warn(`receive failed: ${describePeerError(error)}`);
    }
  }
}

/**
 * Sends `data` to `address`, or logs why not: a reply larger than one datagram is dropped
 * whole rather than cut, and a send error concerns only that peer.
 */
export async function sendDatagram(
  socket: Deno.DatagramConn,
  data: Uint8Array,
  address: Deno.NetAddr,
  log: Log,
): Promise<boolean> {
  // The peer's address is spelled out only when a line needs it: not on the hot path.
  if (data.length > MAX_DATAGRAM) {
    log.warn(`${formatAddress(address)}: ${data.length} bytes do not fit in a datagram; not sent`);
    return false;
  }
  try {
    if (tracing) trace("sendto", formatAddress(address), "out", data, "send");
    await socket.send(data, address);
    return true;
  } catch (error) {
    if (isClosedSocket(error)) throw error;
    log.warn(`${formatAddress(address)}: ${describePeerError(error)}`);
    return false;
  }
}

/**
 * Waits for replies from one server. A wait that times out leaves its receive running, and
 * the next wait picks it up, so a late reply is not lost in a receive nobody awaits.
 */
export interface ReplyReceiver {
  /** The next datagram from `server`, or undefined after `timeoutMs` without one. */
  next(timeoutMs: number): Promise<Uint8Array | undefined>;
}

export function receiveReplies(
  socket: Deno.DatagramConn,
  server: Target,
  log: Log,
): ReplyReceiver {
  const buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
  let receiving: Promise<[Uint8Array, Deno.Addr]> | undefined;
  const fromServer = (address: Deno.NetAddr) =>
    address.port === server.port && (!isIpLiteral(server.host) || address.hostname === server.host);
  return {
    async next(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        receiving ??= socket.receive(buffer);
        const received = await within(receiving, deadline - Date.now());
        if (received === undefined) {
          if (tracing) trace("recvfrom", `no reply within ${timeoutMs / 1000} s`, "none");
          return undefined;
        }
        receiving = undefined;
        const [data, address] = received;
        if (tracing) trace("recvfrom", formatAddress(address), "in", data, "receive");
        if (fromServer(address as Deno.NetAddr)) return data.slice();
        log.warn(`ignored a datagram from ${formatAddress(address as Deno.NetAddr)}`);
      }
    },
  };
}
