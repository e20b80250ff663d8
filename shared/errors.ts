/**
 * Turns errors into one line a user can act on. Two kinds: failures that end a script (port in
 * use, connection refused, bad flag, no `--allow-net`) and peer errors that end one connection
 * or datagram but never the server (a reset, a broken pipe).
 *
 * @example
 * ```ts
 * import { describeFailure } from "./errors.ts";
 * describeFailure(new Deno.errors.AddrInUse(), { host: "127.0.0.1", port: 5005 });
 * // "port 5005 on 127.0.0.1 is already in use (another server?); choose another with --port"
 * ```
 * @module
 */
import { formatHostPort } from "./address.ts";

/** A bad flag or value: the script prints the message, points at `--help` and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The address a script was asked to bind or reach, for messages. */
export interface Target {
  host: string;
  port: number;
}

/** One line for an error that ends `script` (`udp/server.ts`), which was to use `target`. */
export function describeFailure(error: unknown, target: Target, script = "the script"): string {
  const where = formatHostPort(target.host, target.port);
  if (error instanceof UsageError) return `${error.message} (see --help)`;
  if (error instanceof Deno.errors.AddrInUse) {
    return `port ${target.port} on ${target.host} is already in use (another server?); ` +
      `choose another with --port`;
  }
  if (error instanceof Deno.errors.ConnectionRefused) {
    return `connection refused by ${where}: is the server running there?`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `cannot use ${target.host}: it is not an address of this machine`;
  }
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return `no network permission for ${where}: run it as deno run --allow-net ${script}`;
  }
  if (error instanceof Deno.errors.TimedOut) return `timed out reaching ${where}`;
  return firstLine(error);
}

/** One line for an error that ends one connection or one datagram, not the server. */
export function describePeerError(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionReset) return "reset the connection";
  if (error instanceof Deno.errors.BrokenPipe) return "went away before the reply was sent";
  if (error instanceof Deno.errors.ConnectionAborted) return "aborted the connection";
  if (error instanceof Deno.errors.TimedOut) return "timed out";
  return firstLine(error);
}

/** True for the errors an operation gets when its own socket was closed under it (shutdown). */
export function isClosedSocket(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] || String(error);
}
