/**
 * The frame around each script, one call at its top: flags, `--help`, the network permission
 * checked up front (a hint now, not a prompt later), the trace, and a `signal` that Ctrl-C
 * aborts, on which a script runs the tutorial's unreachable `close()` and so comes to its end.
 * A failure the script does not handle (the port in use, a refused connection) ends it with one
 * line on stderr and status 1; one that no script expects, a bug, with its stack trace after it.
 * @example
 * ```ts
 * import { start } from "./start.ts";
 * const { port, signal } = start({ path: "x.ts", role: "server", summary: "Echo.", flags: {} });
 * ```
 * @module
 */
import { formatHost, formatHostPort } from "./address.ts";
import { describeFailure, Failure, firstLine, type Target } from "./errors.ts";
import { type Flags, listFlags, parseFlags, type Role, toggle, withCommon } from "./flags.ts";
import { createLog, type Log, paint, promptShown, writeStderrLine } from "./log.ts";
import { startTracing, trace } from "./trace.ts";
/** A script: `path` as a reader types it, the first line of its `--help` and what it needs. */
export type ScriptSpec<F extends Flags> = {
  path: string;
  role: Role;
  summary: string;
  flags: F;
  datagrams?: boolean; // uses Deno.listenDatagram, behind --unstable-net
  quiet?: string; // a server's --help line for --quiet, which silences the log's per-peer lines
  bindAddressFor?: (host: string) => string; // the address a UDP client binds to reach `host`
  repliesFor?: (host: string) => string[] | "any"; // where a UDP server bound to `host` answers
};
/** The flags' values, the log (`--quiet` silences its per-peer lines) and the Ctrl-C signal. */
export type Started<F extends Flags> = ReturnType<typeof parseFlags<F>> & {
  log: Log;
  signal: AbortSignal; // aborted by Ctrl-C (reason 130) or SIGTERM (143): then the script ends
};
/** Sets up the frame for `spec`; exits for `--help`, a bad flag or a missing `--allow-net`. */
export function start<F extends Flags>(spec: ScriptSpec<F>): Started<F> {
  const name = spec.path.replace(/\.ts$/, "");
  const flags = spec.quiet ? { ...spec.flags, quiet: toggle(spec.quiet) } : spec.flags;
  let values: ReturnType<typeof parseFlags<F>> & { quiet?: boolean };
  try {
    values = parseFlags(spec.role, flags);
  } catch (error) {
    createLog(name).error(`${(error as Error).message} (see --help)`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(usage({ ...spec, flags }));
    Deno.exit(0);
  }
  if (values.trace || values.traceJson) startTracing(name, values.traceJson ? "json" : "text");
  const asEvent = values.traceJson ? (note: string) => trace({ call: "log", note }) : undefined;
  const log = createLog(name, values.quiet, asEvent);
  const bindHost = spec.bindAddressFor?.(values.host);
  const replyTo = spec.repliesFor?.(values.host);
  const target: Target = { ...values, bindHost, replyTo };
  // What a script does not handle itself ends it here, in a line that says what to do.
  const fail = (error: unknown): never => {
    const known = describeFailure(error, target, [spec.path, ...Deno.args]);
    log.error(known ?? firstLine(error));
    if (!known) writeStderrLine(paint("dim", (error as Error)?.stack ?? String(error))); // a bug
    Deno.exit(1);
  };
  addEventListener("unhandledrejection", (event) => (event.preventDefault(), fail(event.reason)));
  addEventListener("error", (event) => (event.preventDefault(), fail(event.error)));
  if (spec.datagrams && typeof Deno.listenDatagram !== "function") {
    const unstable =
      "Deno.listenDatagram is an unstable API: run with --unstable-net (the project's " +
      "deno.json turns it on, but not with --no-config or when the script is run from a URL)";
    fail(new Failure(unstable));
  }
  // The permissions Deno would ask for at the first socket call, and a UDP server's replies.
  const where = formatHostPort(values.host, values.port);
  const others = [bindHost ?? [], Array.isArray(replyTo) ? replyTo : []].flat().map(formatHost);
  const denied = [where.replace(/:0$/, ""), ...others].find((host) => !granted(host)) ??
    (replyTo === "any" && !granted() ? where : undefined); // replies to anyone: the whole network
  if (denied) fail(new Deno.errors.NotCapable(`Requires net access to "${denied}"`));
  const stop = new AbortController();
  for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    if (signal === "SIGTERM" && Deno.build.os === "windows") break; // Windows has no SIGTERM
    Deno.addSignalListener(signal, () => {
      // What comes next (a log line, the shell's prompt) would otherwise start right after "^C".
      if (Deno.stderr.isTerminal()) Deno.stderr.writeSync(Uint8Array.of(10)); // "\n"
      promptShown(false);
      if (stop.signal.aborted) { // a second one: no more waiting, not even for --grace
        log.notice(`${signal} while stopping: stopped at once`);
        Deno.exit(spec.role === "client" ? status : 0);
      }
      stop.abort(status);
    });
  }
  return { ...values, log, signal: stop.signal };
}
/** Whether the network is allowed, for `host` (a host or address, with or without a port). */
const granted = (host?: string): boolean =>
  Deno.permissions.querySync({ name: "net", host }).state === "granted";
/** The `--help` text of `spec`: its flags amid the common ones, permissions and exit statuses. */
function usage(spec: ScriptSpec<Flags>): string {
  const flags = withCommon(spec.role, spec.flags);
  const bind = spec.bindAddressFor ? `,${spec.bindAddressFor("192.0.2.1")}` : "";
  const allowNet = spec.repliesFor
    ? "for localhost: --allow-net=localhost,127.0.0.1,[::1];\n" +
      "       for another address: --allow-net, as its replies go to any client's address"
    : `for another host: --allow-net=HOST${bind}`;
  return [
    spec.summary,
    "",
    `usage: deno run --allow-net=${flags.host.default} ${spec.path} [options]`,
    `       (for --host ::1: '--allow-net=[::1]'; ${allowNet})`,
    "",
    ...listFlags(flags),
    "",
    spec.role === "server"
      ? "Ctrl-C or SIGTERM stops it: the socket is closed, exit status 0. It exits 1 when it cannot\n" +
        "start (the port is in use, no network permission), 2 for a bad flag."
      : "Exit status: 0 when every line was answered, 1 when not (one line on stderr says why),\n" +
        "2 for a bad flag, 130 after Ctrl-C, 143 after SIGTERM.",
  ].join("\n");
}
