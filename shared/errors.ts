/**
 * Turns errors into one line a user can act on, telling them apart by their `Deno.errors` class.
 * Two kinds: failures that end a script (port in use, connection refused, unknown host, bad flag,
 * no `--allow-net`) and peer errors that end one connection or datagram but never the server.
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
import { UsageError } from "./options.ts";

/** What a script was to reach or bind: the flags' address, and its own bind address if any. */
export interface Target {
  /** `--host`. */
  host: string;
  /** `--port`. */
  port: number;
  /** The address a UDP client binds for itself, which `--allow-net` must grant too. */
  bindHost?: string;
}

/**
 * One line for an error that ends `script` (its path, `udp/server.ts`, for the hint that shows
 * how to run it), which was to use `target`; `args` are the user's flags, repeated in the hint.
 */
export function describeFailure(
  error: unknown,
  target: Target,
  script: string,
  args: readonly string[] = Deno.args,
): string {
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
    const denied = firstLine(error).match(/net access to "([^"]+)"/)?.[1] ?? where;
    const hosts = new Set([target.host, target.bindHost ?? "", denied].map(allowNetValue));
    const host = [...hosts].filter((each) => each !== "").join(",");
    const quoted = args.map((arg) => /^[\w.,:=/@%+-]+$/.test(arg) ? arg : `'${arg}'`);
    // Quoted when it has brackets ([::1]): a shell would take those for a file-name pattern.
    const allow = host.includes("[") ? `'--allow-net=${host}'` : `--allow-net=${host}`;
    return `no network permission for ${denied}: run it as ` +
      ["deno run", allow, script, ...quoted].join(" ");
  }
  if (error instanceof Deno.errors.TimedOut) return `timed out reaching ${where}`;
  if (error instanceof Deno.errors.ConnectionReset) {
    return `the server at ${where} reset the connection`;
  }
  // Deno has no class for a failed name lookup: it is a plain Error with getaddrinfo's words.
  const message = firstLine(error);
  if (/lookup address/.test(message)) return `cannot find host ${target.host}: ${message}`;
  return message;
}

/**
 * One line for an error that ends one connection or one datagram, not the server; `bytes` is
 * the size of what was being sent, for a datagram refused for its size.
 */
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

/** True for the errors an operation gets when its own socket was closed under it. */
export function isClosedSocket(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/**
 * The error Deno would raise at the first socket call when the network is not allowed for
 * `target`, or undefined when it is. Asked up front, so a script fails early with a hint
 * instead of stopping later, or asking at a prompt in the middle of a session.
 */
export function netPermissionFor(target: Target): Error | undefined {
  const bare = target.host.includes(":") ? `[${target.host}]` : target.host;
  const host = target.port === 0 ? bare : formatHostPort(target.host, target.port);
  if (Deno.permissions.querySync({ name: "net", host }).state === "granted") return undefined;
  return new Deno.errors.NotCapable(`Requires net access to "${host}"`);
}

/** The `--allow-net=` value for a host with or without a port: `127.0.0.1`, `[::1]`. */
function allowNetValue(address: string): string {
  const host = address.match(/^(\[[^\]]*\]|[^:]*):\d+$/)?.[1] ?? address;
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] || String(error);
}
