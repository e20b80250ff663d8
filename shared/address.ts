/**
 * Addresses as people write them, `127.0.0.1:5005` and `[::1]:5005`, and which ones stay local.
 * @example
 * ```ts
 * formatHostPort("::1", 5005); // "[::1]:5005"
 * ```
 * @module
 */
import type { Log } from "./log.ts";

/** `host:port`, with an IPv6 address in brackets. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
/** A socket's or a peer's address, as `formatHostPort` writes it. */
export function formatAddress(address: Deno.Addr): string {
  const { hostname, port } = address as Deno.NetAddr;
  return formatHostPort(hostname, port);
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost|::ffff:127\.[\d.]+)$/i;
const isLoopback = (host: string) => LOOPBACK.test(host);

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

/** Where a UDP client binds: a loopback server's own address (`--allow-net=127.0.0.1` will do). */
export function clientBindAddress(serverHost: string): string {
  return isLoopback(serverHost) ? serverHost : serverHost.includes(":") ? "::" : "0.0.0.0";
}

/**
 * Where a UDP server bound to `host` sends its replies: to each client's address, which is a
 * loopback one for a loopback server (`localhost` is 127.0.0.1 or ::1), and any other one else.
 */
export function replyAddresses(host: string): string[] | "any" {
  if (!isLoopback(host)) return "any";
  return /^localhost$/i.test(host) ? ["127.0.0.1", "::1"] : [host];
}

/** True when `address` is the server at `host`:`port`; for a host name, the port alone decides. */
export function isFromServer(address: Deno.Addr, host: string, port: number): boolean {
  const { hostname, port: from } = address as Deno.NetAddr;
  return from === port && (hostname === host || !/:|^\d{1,3}(\.\d{1,3}){3}$/.test(host));
}
