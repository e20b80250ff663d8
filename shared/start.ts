/**
 * The frame around each script's story, set up by one call at its top: parse the flags, answer
 * `--help`, check the network permission, and turn any failure into one line on stderr and a
 * non-zero exit (2 for a bad flag, 1 for everything else) instead of a stack trace. Ctrl-C and
 * SIGTERM abort the returned `signal`: the script closes its sockets on it, the tutorial's
 * unreachable `sock.close()`. A server then runs to the end of its code and exits 0; a client
 * exits 0 at once, as there is nothing left for it to finish. A second Ctrl-C exits at once.
 *
 * @example
 * ```ts
 * import { start } from "./start.ts";
 * const { host, port, log, signal } = start(
 *   { script: "udp/server.ts", role: "server" },
 *   "Upper-cases datagrams.",
 * );
 * signal.addEventListener("abort", () => log.info(`stopped serving ${host}:${port}`));
 * ```
 * @module
 */
import { describeFailure, isClosedSocket, netPermissionFor } from "./errors.ts";
import { createLog, type Log } from "./log.ts";
import { type Options, parseOptions, type ScriptSpec, usage } from "./options.ts";
import { startTracing, trace } from "./trace.ts";

/** What a script gets from `start`: its flags, its log, and the Ctrl-C signal. */
export interface Started extends Options {
  /** One-line log on stderr; `--quiet` silences the per-peer lines. */
  log: Log;
  /** Aborted by Ctrl-C or SIGTERM: close the sockets on it. */
  signal: AbortSignal;
}

/**
 * Sets up the frame for `spec.script` and returns its flags, log and shutdown signal. Exits
 * the process for `--help`, a bad flag or a missing `--allow-net`.
 */
export function start(spec: ScriptSpec, summary: string): Started {
  const name = spec.script.replace(/\.ts$/, "");
  let log = createLog(name);
  let options: Options;
  try {
    options = parseOptions(spec, Deno.args);
  } catch (error) {
    log.error(describeFailure(error, { host: "", port: 0 }, spec.script));
    Deno.exit(2);
  }
  if (options.help) {
    console.log(usage(spec, summary));
    Deno.exit(0);
  }
  log = createLog(name, options.quiet);
  // What the script was to reach or bind, for the failure messages.
  const target = { ...options, bindHost: spec.bindsFor?.(options.host) };
  const controller = new AbortController();
  const fail = (error: unknown) => {
    // Ctrl-C closed a socket under a call waiting on it: that is how a script stops.
    const code = controller.signal.aborted && isClosedSocket(error) ? 0 : 1;
    if (code !== 0) log.error(describeFailure(error, target, spec.script));
    Deno.exit(code);
  };
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    fail(event.reason);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    fail(event.error);
  });
  const denied = netPermissionFor(options);
  if (denied) {
    log.error(describeFailure(denied, target, spec.script));
    Deno.exit(1);
  }
  if (options.trace) startTracing(name);
  stopOnSignals(controller, spec.role);
  return { ...options, log, signal: controller.signal };
}

/** The first Ctrl-C or SIGTERM aborts `controller`; the second exits at once. */
function stopOnSignals(controller: AbortController, role: ScriptSpec["role"]): void {
  const stop = () => {
    if (controller.signal.aborted) Deno.exit(0);
    // What comes next (a log line, the shell's prompt) would otherwise start right after "^C".
    if (Deno.stderr.isTerminal()) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    trace("close", "on Ctrl-C/SIGTERM: the tutorial's unreachable sock.close()", "none");
    controller.abort();
    if (role === "client") Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
