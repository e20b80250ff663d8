/**
 * The frame around each script's story, one call at its top: parse the flags it declares, answer
 * `--help`, check the network permission up front (a hint now, not a prompt later), turn on the
 * trace, and turn any failure that escapes the story into one line on stderr and exit 1 (2 for a
 * bad flag), not a stack trace. Ctrl-C and SIGTERM abort the returned `signal`, whose `reason` is
 * the status a client exits with (130, 143): the script closes its sockets on it, the tutorial's
 * unreachable `sock.close()`. A second one exits at once.
 *
 * @example
 * ```ts
 * import { start } from "./start.ts";
 * import { toggle } from "./flags.ts";
 * const spec = { path: "tcp/server.ts", role: "server", summary: "Upper-cases." } as const;
 * const { once, log } = start({ ...spec, flags: { once: toggle("serve one, then exit") } });
 * if (once) log.info("serving one connection");
 * ```
 * @module
 */
import { formatHostPort } from "./address.ts";
import { describeFailure, isClosedSocket, type Target } from "./errors.ts";
import { createLog, type Log } from "./log.ts";
import { type Flags, parseFlags, toggle, usage, type Values } from "./flags.ts";
import { startTracing, trace } from "./trace.ts";

/**
 * A script: its `path` from the project root as a reader types it (`udp/server.ts`), its `role`
 * (servers bind `--host`/`--port`, port 0 allowed; clients reach them), the `summary` `--help`
 * starts with, its own `flags`, whether it uses `datagrams` (`Deno.listenDatagram`, behind
 * `--unstable-net`), for a server the `--help` line of `--quiet` (which silences the log's
 * per-peer lines), and for a client that binds an address of its own (UDP), which one it
 * `bindAddressFor` a server at `host`.
 */
export type ScriptSpec<F extends Flags> = {
  path: string;
  role: "server" | "client";
  summary: string;
  flags: F;
  datagrams?: boolean;
  quiet?: string;
  bindAddressFor?: (host: string) => string;
};

/** The flags' values, the log (`--quiet` silences its per-peer lines) and the Ctrl-C signal. */
export type Started<F extends Flags> = Values<F> & { log: Log; signal: AbortSignal };

/** Sets up the frame for `spec`; exits for `--help`, a bad flag or a missing `--allow-net`. */
export function start<F extends Flags>(spec: ScriptSpec<F>): Started<F> {
  const name = spec.path.replace(/\.ts$/, "");
  const flags = { ...spec.flags, ...quietFlag(spec) };
  let values: Values<F>;
  try {
    values = parseFlags(spec.role, flags);
  } catch (error) {
    createLog(name).error(`${(error as Error).message} (see --help)`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(
      usage(
        { ...spec, flags },
        spec.bindAddressFor ? `HOST,${spec.bindAddressFor("192.0.2.1")}` : "HOST",
      ),
    );
    Deno.exit(0);
  }
  if (values.trace || values.traceJson) startTracing(name, values.traceJson ? "json" : "text");
  const quiet = (values as { quiet?: boolean }).quiet; // declared by quietFlag, not by F
  const asEvent = values.traceJson ? (note: string) => trace({ call: "log", note }) : undefined;
  const log = createLog(name, quiet, asEvent);
  const target: Target = { ...values, bindHost: spec.bindAddressFor?.(values.host) };
  const controller = new AbortController();
  const fail = (error: unknown) => {
    // Ctrl-C closed a socket under a call waiting on it: that is how a script stops.
    if (controller.signal.aborted && isClosedSocket(error)) {
      Deno.exit(spec.role === "client" ? controller.signal.reason : 0);
    }
    log.error(describeFailure(error, target, spec.path, Deno.args));
    Deno.exit(1);
  };
  addEventListener("unhandledrejection", (event) => (event.preventDefault(), fail(event.reason)));
  addEventListener("error", (event) => (event.preventDefault(), fail(event.error)));
  if (spec.datagrams && typeof Deno.listenDatagram !== "function") {
    log.error(
      "Deno.listenDatagram is an unstable API: run with --unstable-net (the project's " +
        "deno.json turns it on, but not with --no-config or when the script is run from a URL)",
    );
    Deno.exit(1);
  }
  // The permission Deno would ask for at the first socket call.
  const host = values.host.includes(":") ? `[${values.host}]` : values.host;
  const address = values.port === 0 ? host : formatHostPort(values.host, values.port);
  if (Deno.permissions.querySync({ name: "net", host: address }).state !== "granted") {
    fail(new Deno.errors.NotCapable(`Requires net access to "${address}"`));
  }
  const signals = [["SIGINT", 130], ["SIGTERM", 143]] as const;
  for (const [signal, status] of Deno.build.os === "windows" ? signals.slice(0, 1) : signals) {
    Deno.addSignalListener(signal, () => {
      if (controller.signal.aborted) Deno.exit(spec.role === "client" ? status : 0);
      // What comes next (a log line, the shell's prompt) would otherwise start right after "^C".
      if (Deno.stderr.isTerminal()) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
      controller.abort(status);
    });
  }
  return { ...values, log, signal: controller.signal };
}

/** `--quiet`, for a script that has a log of per-peer lines to silence. */
function quietFlag(spec: { quiet?: string }): Flags {
  return spec.quiet === undefined ? {} : { quiet: toggle(spec.quiet) };
}
