/**
 * Where the UDP scripts bind and answer: what a client binds to reach a server, where a server's
 * replies go, and which datagram is the server's.
 * @module
 */
import { isLoopback } from "../shared/address.ts";

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

/**
 * True when `address` is the server at `host`:`port`. For a host name, or 0.0.0.0 and `::` (this
 * machine, which answers from an address of its own), the port alone decides.
 */
export function isFromServer(address: Deno.Addr, host: string, port: number): boolean {
  const { hostname, port: from } = address as Deno.NetAddr;
  const named = !/:|^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host === "0.0.0.0" || host === "::";
  return from === port && (hostname === host || named);
}
