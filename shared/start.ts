/**
 * The frame around each script, one call at its top: flags, `--help`, the network permission
 * checked up front (a hint now, not a prompt later), the trace, one line on stderr for a failure,
 * and a `signal` that Ctrl-C aborts, on which a script runs the tutorial's unreachable `close()`.
 *
 * @example
 * ```ts
 * import { start } from "./start.ts";
 * const { port, signal } = start({ path: "x.ts", role: "server", summary: "Echo.", flags: {} });
 * ```
 * @module
 */
import { formatHostPort } from "./address.ts";
import { describeFailure, isClosedSocket } from "./errors.ts";
import { type Flags, parseFlags, type Role, toggle, usage, type Values } from "./flags.ts";
import { createLog, type Log, promptShown } from "./log.ts";
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
};

/** The flags' values, the log (`--quiet` silences its per-peer lines) and the Ctrl-C signal. */
export type Started<F extends Flags> = Values<F> & { log: Log; signal: AbortSignal };

/** Sets up the frame for `spec`; exits for `--help`, a bad flag or a missing `--allow-net`. */
export function start<F extends Flags>(spec: ScriptSpec<F>): Started<F> {
  const name = spec.path.replace(/\.ts$/, "");
  const flags = spec.quiet ? { ...spec.flags, quiet: toggle(spec.quiet) } : spec.flags;
  let values: Values<F> & { quiet?: boolean };
  try {
    values = parseFlags(spec.role, flags);
  } catch (error) {
    createLog(name).error(`${(error as Error).message} (see --help)`);
    Deno.exit(2);
  }
  if (values.help) {
    const allowNet = spec.bindAddressFor ? `HOST,${spec.bindAddressFor("192.0.2.1")}` : "HOST";
    console.log(usage({ ...spec, flags }, allowNet));
    Deno.exit(0);
  }
  if (values.trace || values.traceJson) startTracing(name, values.traceJson ? "json" : "text");
  const asEvent = values.traceJson ? (note: string) => trace({ call: "log", note }) : undefined;
  const log = createLog(name, values.quiet, asEvent);
  const target = { ...values, bindHost: spec.bindAddressFor?.(values.host) };
  const stop = new AbortController();
  const stopped = (status: number) => Deno.exit(spec.role === "client" ? status : 0);
  const fail = (error: unknown): never => {
    // Ctrl-C closed a socket under a call waiting on it: that is how a script stops.
    if (stop.signal.aborted && isClosedSocket(error)) stopped(stop.signal.reason);
    log.error(describeFailure(error, target, spec.path, Deno.args));
    Deno.exit(1);
  };
  addEventListener("unhandledrejection", (event) => (event.preventDefault(), fail(event.reason)));
  addEventListener("error", (event) => (event.preventDefault(), fail(event.error)));
  if (spec.datagrams && typeof Deno.listenDatagram !== "function") {
    fail(
      "Deno.listenDatagram is an unstable API: run with --unstable-net (the project's " +
        "deno.json turns it on, but not with --no-config or when the script is run from a URL)",
    );
  }
  // The permission Deno would ask for at the first socket call.
  const address = formatHostPort(values.host, values.port).replace(/:0$/, "");
  if (Deno.permissions.querySync({ name: "net", host: address }).state !== "granted") {
    fail(new Deno.errors.NotCapable(`Requires net access to "${address}"`));
  }
  for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    if (signal === "SIGTERM" && Deno.build.os === "windows") break; // Windows has no SIGTERM
    Deno.addSignalListener(signal, () => {
      // What comes next (a log line, the shell's prompt) would otherwise start right after "^C".
      if (Deno.stderr.isTerminal()) Deno.stderr.writeSync(Uint8Array.of(10)); // "\n"
      promptShown(false);
      if (stop.signal.aborted) { // a second one: no more waiting, not even for --grace
        log.notice(`${signal} while stopping: stopped at once`);
        stopped(status);
      }
      stop.abort(status);
    });
  }
  return { ...values, log, signal: stop.signal };
}
