/**
 * The frame around each script's story, set up by one call at its top: parse the flags the
 * script declares, answer `--help`, check the network permission, turn on the trace, and turn
 * any failure that escapes the story into one line on stderr and a non-zero exit (2 for a bad
 * flag, 1 for everything else) instead of a stack trace. Ctrl-C and SIGTERM abort the returned
 * `signal`, whose `reason` is the exit status a client ends with (130, 143): the script closes
 * its sockets on it, the tutorial's unreachable `sock.close()`. A second one exits at once.
 *
 * @example
 * ```ts
 * import { start } from "./start.ts";
 * import { toggle } from "./options.ts";
 * const { port, once, log } = start({
 *   path: "tcp/server.ts",
 *   role: "server",
 *   summary: "Upper-cases a byte stream.",
 *   flags: { once: toggle("serve one connection, then exit") },
 * });
 * if (once) log.info(`serving one connection on port ${port}`);
 * ```
 * @module
 */
import { describeFailure, isClosedSocket, netPermissionFor } from "./errors.ts";
import { createLog, type Log } from "./log.ts";
import { type Flags, parseFlags, usage, type Values } from "./options.ts";
import { startTracing, trace } from "./trace.ts";

/** What a script is: its path (for messages), its role, what it does, and the flags it takes. */
export interface ScriptSpec<F extends Flags> {
  /** The script's path from the project root, as a reader types it: `udp/server.ts`. */
  path: string;
  /** Servers bind `--host`/`--port` (port 0 allowed); clients reach them. */
  role: "server" | "client";
  /** One line for `--help`. */
  summary: string;
  /** The flags it takes besides `--host`, `--port`, `--trace`, `--trace-json` and `--help`. */
  flags: F;
  /** For a UDP script: `Deno.listenDatagram` is behind `--unstable-net`. */
  datagrams?: boolean;
  /** For a client that binds an address of its own (UDP): which one, for a server at `host`. */
  bindsFor?: (host: string) => string;
}

/** What a script gets from `start`: its flags, its log, and the Ctrl-C signal. */
export type Started<F extends Flags> = Values<F> & {
  /** One-line log on stderr; `--quiet` silences the per-peer lines. */
  log: Log;
  /** Aborted by Ctrl-C (reason 130) or SIGTERM (reason 143): close the sockets on it. */
  signal: AbortSignal;
};

/** Sets up the frame for `spec`; exits for `--help`, a bad flag or a missing `--allow-net`. */
export function start<F extends Flags>(spec: ScriptSpec<F>): Started<F> {
  const name = spec.path.replace(/\.ts$/, "");
  let values: Values<F>;
  try {
    values = parseFlags(spec.role, spec.flags);
  } catch (error) {
    createLog(name).error(describeFailure(error, { host: "", port: 0 }, spec.path));
    Deno.exit(2);
  }
  if (values.help) {
    console.log(usage(spec, spec.bindsFor ? `HOST,${spec.bindsFor("192.0.2.1")}` : "HOST"));
    Deno.exit(0);
  }
  if (values.trace || values.traceJson) startTracing(name, values.traceJson ? "json" : "text");
  const log = createLog(
    name,
    Boolean((values as { quiet?: boolean }).quiet),
    values.traceJson ? (note) => trace({ call: "log", note }) : undefined,
  );
  const target = { host: values.host, port: values.port, bindHost: spec.bindsFor?.(values.host) };
  const controller = new AbortController();
  const fail = (error: unknown) => {
    // Ctrl-C closed a socket under a call waiting on it: that is how a script stops.
    if (controller.signal.aborted && isClosedSocket(error)) Deno.exit(0);
    log.error(describeFailure(error, target, spec.path));
    Deno.exit(1);
  };
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    fail(event.reason);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    fail(event.error);
  });
  if (spec.datagrams && typeof Deno.listenDatagram !== "function") {
    log.error(
      "Deno.listenDatagram is an unstable API: run with --unstable-net (the project's " +
        "deno.json turns it on, but not with --no-config or when the script is run from a URL)",
    );
    Deno.exit(1);
  }
  const denied = netPermissionFor(target);
  if (denied) fail(denied);
  for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    Deno.addSignalListener(signal, () => {
      if (controller.signal.aborted) Deno.exit(spec.role === "client" ? status : 0);
      // What comes next (a log line, the shell's prompt) would otherwise start right after "^C".
      if (Deno.stderr.isTerminal()) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
      controller.abort(status);
    });
  }
  return { ...values, log, signal: controller.signal };
}
