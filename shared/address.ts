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

/** `host:port`, with an IPv6 address in brackets. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The address of a socket or a peer, as `formatHostPort` writes it. */
export function formatAddress(address: Deno.Addr): string {
  const { hostname, port } = address as Deno.NetAddr;
  return formatHostPort(hostname, port);
}

/** True for an IPv4 or IPv6 address written as numbers, false for a name like `localhost`. */
export function isIpLiteral(host: string): boolean {
  return host.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}
