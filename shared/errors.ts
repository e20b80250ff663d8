/**
 * Errors as one line a user can act on, told apart by their `Deno.errors` class: failures that
 * end a script (port in use, connection refused, unknown host, bad flag, no `--allow-net`) and
 * peer errors that end one connection or datagram, never the server.
 *
 * @example
 * ```ts
 * import { describeFailure } from "./errors.ts";
 * describeFailure(new Deno.errors.AddrInUse(), { host: "127.0.0.1", port: 5005 }, "x.ts", []);
 * // "port 5005 on 127.0.0.1 is already in use (another server?); choose another with --port"
 * ```
 * @module
 */
import { formatHostPort } from "./address.ts";
import { UsageError } from "./flags.ts";

/** What a script was to reach or bind, and the address a UDP client binds for itself. */
export type Target = { host: string; port: number; bindHost?: string };

/**
 * One line for an error that ends the script at `path` (`udp/server.ts`), which was to use
 * `target`; a permission hint repeats `path` and the user's `args`.
 */
export function describeFailure(
  error: unknown,
  target: Target,
  path: string,
  args: readonly string[] = Deno.args,
): string {
  const { host, port } = target;
  const where = formatHostPort(host, port);
  if (error instanceof UsageError) return `${error.message} (see --help)`;
  if (error instanceof Deno.errors.AddrInUse) {
    return `port ${port} on ${host} is already in use (another server?); choose another with --port`;
  }
  if (error instanceof Deno.errors.ConnectionRefused) {
    return `connection refused by ${where}: is the server running there?`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `cannot use ${host}: it is not an address of this machine`;
  }
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    const denied = firstLine(error).match(/net access to "([^"]+)"/)?.[1] ?? where;
    const hosts = [host, target.bindHost ?? "", denied].map(allowNetValue).filter((h) => h);
    const allowed = [...new Set(hosts)].join(",");
    // Quoted when it has brackets ([::1]): a shell would take those for a file-name pattern.
    const allow = allowed.includes("[") ? `'--allow-net=${allowed}'` : `--allow-net=${allowed}`;
    const quoted = args.map((arg) => /^[\w.,:=/@%+-]+$/.test(arg) ? arg : `'${arg}'`);
    return `no network permission for ${denied}: run it as ` +
      ["deno run", allow, path, ...quoted].join(" ");
  }
  if (error instanceof Deno.errors.TimedOut) return `timed out reaching ${where}`;
  if (error instanceof Deno.errors.ConnectionReset) {
    return `the server at ${where} reset the connection`;
  }
  // Deno has no class for a failed name lookup: a plain Error with getaddrinfo's words.
  const message = firstLine(error);
  return /lookup address/.test(message) ? `cannot find host ${host}: ${message}` : message;
}

/** One line for an error that ends one connection or datagram of `bytes` bytes, not the server. */
export function describePeerError(error: unknown, bytes?: number): string {
  if (error instanceof Deno.errors.ConnectionReset) return "reset the connection";
  if (error instanceof Deno.errors.BrokenPipe) return "went away before the reply was sent";
  if (error instanceof Deno.errors.ConnectionAborted) return "aborted the connection";
  if (error instanceof Deno.errors.TimedOut) return "timed out";
  if (isTooLongForDatagram(error)) {
    return `${bytes ?? "the"} bytes do not fit in a datagram; not sent`;
  }
  return firstLine(error);
}

/** True when a datagram was refused for its size (EMSGSIZE): UDP does not split messages. */
export function isTooLongForDatagram(error: unknown): boolean {
  return (error as { code?: string })?.code === "EMSGSIZE";
}

/** True when the other side reset the connection or is gone (a write into a closed pipe). */
export function isPeerGone(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe;
}

/** True for the errors a call gets when its own socket was closed under it (Ctrl-C, a timeout). */
export function isClosedSocket(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/** The `--allow-net=` value for a host with or without a port: `127.0.0.1`, `[::1]`. */
function allowNetValue(address: string): string {
  const host = address.match(/^(\[[^\]]*\]|[^:]*):\d+$/)?.[1] ?? address;
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] || String(error);
}
