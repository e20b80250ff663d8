/**
 * Addresses as people write them, `127.0.0.1:5005` and `[::1]:5005`, and which ones stay local.
 * @example
 * ```ts
 * formatHostPort("::1", 5005); // "[::1]:5005"
 * ```
 * @module
 */
import type { Log } from "./log.ts";
/** A host as a URL or `--allow-net` writes it: an IPv6 address in brackets. */
export const formatHost = (host: string): string => host.includes(":") ? `[${host}]` : host;
/** `host:port`, with an IPv6 address in brackets. */
export const formatHostPort = (host: string, port: number): string => `${formatHost(host)}:${port}`;
/** A socket's or a peer's address, as `formatHostPort` writes it. */
export function formatAddress(address: Deno.Addr): string {
  const { hostname, port } = address as Deno.NetAddr;
  return formatHostPort(hostname, port);
}
/** True for a host of this machine's loopback: 127.0.0.0/8, ::1, localhost. */
export const isLoopback = (host: string): boolean =>
  /^(127(\.\d{1,3}){3}|::1|localhost|::ffff:127\.[\d.]+)$/i.test(host);
/** A server's first line (tests read its port from it), and a warning if others can reach it. */
export function announceListening(protocol: "udp" | "tcp", address: Deno.Addr, log: Log): void {
  console.log(`listening on ${protocol}://${formatAddress(address)}`);
  if (isLoopback((address as Deno.NetAddr).hostname)) return;
  const warning = `warning: ${formatAddress(address)} can be reached from other machines`;
  // Upper-casing can make a reply three times its request (ΐ: 2 bytes, Ϊ́: 6), and UDP does not
  // check who sent it: a spoofed request would aim the larger reply at someone else.
  const udp = protocol === "udp"
    ? "; a reply can be 3× its request: keep it on a trusted network"
    : "";
  log.notice(`${warning}, not only this one (--host 127.0.0.1 keeps it local)${udp}`);
}
