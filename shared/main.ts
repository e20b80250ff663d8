/**
 * The frame around each script's story: parse the flags, answer `--help`, make sure the
 * network is allowed, run the body, and turn any failure into one line on stderr and a
 * non-zero exit (2 for a bad flag, 1 for everything else) instead of a stack trace.
 * Ctrl-C and SIGTERM run the closers a script registered with `onShutdown`, then exit 0.
 *
 * @example
 * ```ts
 * import { runMain } from "./main.ts";
 * runMain({ script: "udp/server.ts", role: "server" }, "Upper-cases datagrams.", (options) => {
 *   console.log(options.port);
 * });
 * ```
 * @module
 */
import { formatHostPort } from "./address.ts";
import { describeFailure, UsageError } from "./errors.ts";
import { createLog, type Log } from "./log.ts";
import { type Options, parseOptions, type ScriptSpec, usage } from "./options.ts";
import { flushOutput } from "./stdio.ts";
import { startTracing, trace, tracing } from "./trace.ts";

/** What the body of a script receives. */
export interface Context {
  options: Options;
  log: Log;
}

/** Runs a script's body inside the shared frame; never returns: it ends the process. */
export async function runMain(
  spec: ScriptSpec,
  summary: string,
  body: (context: Context) => Promise<void> | void,
): Promise<never> {
  const name = spec.script.replace(/\.ts$/, "");
  let log = createLog(name);
  let target = { host: "", port: 0 };
  try {
    const options = parseOptions(spec, Deno.args);
    if (options.help) {
      console.log(usage(spec, summary));
      Deno.exit(0);
    }
    target = options;
    log = createLog(name, options.quiet);
    if (options.trace) startTracing(name);
    requireNetPermission(options);
    handleShutdownSignals();
    await body({ options, log });
    await flushOutput();
    Deno.exit(0);
  } catch (error) {
    await flushOutput().catch(() => {});
    log.error(describeFailure(error, target, spec.script));
    Deno.exit(error instanceof UsageError ? 2 : 1);
  }
}

const closers: Array<() => void | Promise<void>> = [];

/**
 * Registers what Ctrl-C (SIGINT) or SIGTERM must close: the tutorial's last line,
 * `sock.close()`, which its `while True` loop never reaches. A closer may take its time (a
 * server finishing its replies); when all are done the script exits 0. A second signal
 * exits at once.
 */
export function onShutdown(close: () => void | Promise<void>): void {
  closers.push(close);
}

/** Installed before a script's body runs, so a signal right after start-up also exits 0. */
function handleShutdownSignals(): void {
  let stopping = false;
  const shutdown = async () => {
    if (stopping) Deno.exit(0);
    stopping = true;
    if (tracing) {
      trace("close", "on Ctrl-C/SIGTERM: the tutorial's unreachable sock.close()", "none");
    }
    await Promise.allSettled(closers.splice(0).map(async (close) => await close()));
    await flushOutput().catch(() => {});
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
}

/**
 * Fails early, with a hint, when the network is not allowed: without this, Deno would stop
 * at the first socket call with a long message, or ask at a prompt in the middle of a session.
 */
function requireNetPermission(options: Options): void {
  const host = options.port === 0 ? options.host : formatHostPort(options.host, options.port);
  if (Deno.permissions.querySync({ name: "net", host }).state !== "granted") {
    throw new Deno.errors.NotCapable(`net access to ${host}`);
  }
}
