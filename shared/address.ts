/**
 * Addresses as people write them: `127.0.0.1:5005`, and IPv6 in brackets, `[::1]:5005`.
 *
 * @example
 * ```ts
 * import { formatHostPort } from "./address.ts";
 * formatHostPort("::1", 5005); // "[::1]:5005"
 * ```
 * @module
 */
import type { Log } from "./log.ts";

/** `host:port`, with an IPv6 address in brackets. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The address of a socket or a peer, as `formatHostPort` writes it. */
export function formatAddress(address: Deno.Addr): string {
  const { hostname, port } = address as Deno.NetAddr;
  return formatHostPort(hostname, port);
}

const isLoopback = (host: string) =>
  /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost|::ffff:127\.[\d.]+)$/i.test(host);

/**
 * A server's first line on stdout, `listening on udp://127.0.0.1:5005` (tests and scripts read
 * the port from it), and a warning when other machines can reach it: the tutorial binds 127.0.0.1.
 */
export function announceListening(protocol: "udp" | "tcp", address: Deno.Addr, log: Log): void {
  console.log(`listening on ${protocol}://${formatAddress(address)}`);
  if (isLoopback((address as Deno.NetAddr).hostname)) return;
  log.notice(
    `warning: ${formatAddress(address)} can be reached from other machines, not only ` +
      "this one (--host 127.0.0.1 keeps it local)",
  );
}

/**
 * The address a UDP client binds before it sends to `serverHost`: the loopback address itself for
 * a server on this machine, so `--allow-net=127.0.0.1` is all it needs; else `0.0.0.0` or `::`.
 */
export function clientBindAddress(serverHost: string): string {
  if (isLoopback(serverHost)) return serverHost;
  return serverHost.includes(":") ? "::" : "0.0.0.0";
}

/** True when `address` is the server at `host`:`port` (for a name, the port alone decides). */
export function isFromServer(address: Deno.Addr, host: string, port: number): boolean {
  const { hostname, port: from } = address as Deno.NetAddr;
  const isIpLiteral = host.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
  return from === port && (!isIpLiteral || hostname === host);
}
