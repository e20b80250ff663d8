/**
 * Errors as one line a user can act on, told apart by their `Deno.errors` class.
 * @example
 * ```ts
 * import { describePeerError } from "./errors.ts";
 * describePeerError(new Deno.errors.BrokenPipe()); // "went away before the reply was sent"
 * ```
 * @module
 */
import { formatHost, formatHostPort } from "./address.ts";
/** An error whose message says all there is to say: a script ends on it with that one line. */
export class Failure extends Error {}
/** What a script was to reach or bind; for a UDP client, the address it binds itself; for a UDP
 * server, where its replies go: the loopback addresses, or `"any"` address. */
export type Target = { host: string; port: number; bindHost?: string; replyTo?: string[] | "any" };
/** One line for an error that ends the script of `command` (its path and args, which a permission
 * hint repeats); undefined for one no script expects, a bug: its stack trace should follow. */
export function describeFailure(error: unknown, to: Target, command: string[]): string | undefined {
  const where = formatHostPort(to.host, to.port);
  if (error instanceof Failure) return error.message;
  if (error instanceof Deno.errors.AddrInUse) {
    return `port ${to.port} on ${to.host} is already in use (another server?); choose another with --port`;
  }
  if (error instanceof Deno.errors.ConnectionRefused) {
    return `connection refused by ${where}: is the server running there?`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `cannot use ${to.host}: it is not an address of this machine`;
  }
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    const denied = error.message.match(/net access to "([^"]+)"/)?.[1] ?? where;
    const hint = ["deno", "run", allowNet(to, denied), ...command];
    // Quoted where a shell would read a character of its own, like the brackets of [::1].
    const quoted = hint.map((arg) => /^[\w.,:=/@%+-]+$/.test(arg) ? arg : `'${arg}'`);
    const replies = to.replyTo === "any" ? " (its replies go to any client's address)" : "";
    return `no network permission for ${denied}${replies}: run it as ${quoted.join(" ")}`;
  }
  if (error instanceof Deno.errors.TimedOut) return `timed out reaching ${where}`;
  if (error instanceof Deno.errors.ConnectionReset) {
    return `the server at ${where} reset the connection`;
  }
  // Deno has no class for a failed name lookup: a plain Error with getaddrinfo's words.
  const message = firstLine(error);
  return /lookup address/.test(message) ? `cannot find host ${to.host}: ${message}` : undefined;
}
/** The `--allow-net` that `to` needs: hosts without their ports, IPv6 in brackets, or all. */
function allowNet(to: Target, denied: string): string {
  if (to.replyTo === "any") return "--allow-net";
  const ours = [to.host, to.bindHost ?? [], to.replyTo ?? []].flat().map(formatHost);
  return `--allow-net=${[...new Set([...ours, denied.replace(/:\d+$/, "")])]}`;
}
/** One line for an error that ends one connection or datagram (of `bytes` bytes), not the server. */
export function describePeerError(error: unknown, bytes?: number): string {
  if (error instanceof Deno.errors.ConnectionReset) return "reset the connection";
  if (error instanceof Deno.errors.BrokenPipe) return "went away before the reply was sent";
  if (error instanceof Deno.errors.ConnectionAborted) return "aborted the connection";
  if (error instanceof Deno.errors.TimedOut) return "timed out";
  if (!isTooLongForDatagram(error)) return firstLine(error);
  return `${bytes ?? "the"} bytes do not fit in a datagram; not sent`;
}
/** True when a datagram was refused for its size (EMSGSIZE): UDP does not split messages. */
export const isTooLongForDatagram = (error: unknown): boolean =>
  (error as { code?: string })?.code === "EMSGSIZE";
/** True when the other side reset the connection or is gone (a write into a closed pipe). */
export const isPeerGone = (error: unknown): boolean =>
  error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe;
/** True for the errors a call gets when its own socket was closed under it (Ctrl-C, a timeout). */
export const isClosedSocket = (error: unknown): boolean =>
  error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
/** For `.catch` on a socket's wait: `undefined` if the socket was closed under it, else a throw. */
export function untilClosed(error: unknown): undefined {
  if (!isClosedSocket(error)) throw error;
}
/** The first line of an error's message. */
export const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0] || String(error);
