/**
 * Command-line flags shared by the four scripts: `--host`, `--port`, `--help`, plus the few
 * flags one script adds (`--once`, `--timeout`). Parsed with `parseArgs` from `node:util`,
 * which Deno ships (JSR's `@std/cli` is not reachable from our machines).
 *
 * @example
 * ```ts
 * import { parseOptions } from "./options.ts";
 * const options = parseOptions({ script: "udp/server.ts", role: "server" }, ["--port", "0"]);
 * options.port; // 0: any free port
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** The tutorial's address: `("127.0.0.1", 5005)`. */
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 5005;
export const DEFAULT_TIMEOUT_SECONDS = 2;

/** What one script is: its path (for messages), its role and its extra flags. */
export interface ScriptSpec {
  script: string;
  role: "server" | "client";
  /** tcp/server.ts: serve one connection, then exit, as the tutorial does. */
  once?: boolean;
  /** udp/client.ts: how long to wait for each reply. */
  timeout?: boolean;
}

export interface Options {
  host: string;
  port: number;
  help: boolean;
  once: boolean;
  /** Seconds to wait for a reply (udp/client.ts). */
  timeout: number;
}

/** Parses `args`; throws a `UsageError` naming the bad flag or value. */
export function parseOptions(spec: ScriptSpec, args: string[] = Deno.args): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        help: { type: "boolean" },
        ...(spec.once ? { once: { type: "boolean" } } : {}),
        ...(spec.timeout ? { timeout: { type: "string" } } : {}),
      },
    }));
  } catch (error) {
    throw new UsageError(parseArgsMessage(error));
  }
  const host = values.host ?? DEFAULT_HOST;
  if (host.trim() === "") throw new UsageError("--host needs an address, e.g. 127.0.0.1 or ::1");
  return {
    host: host.replace(/^\[(.*)\]$/, "$1"),
    port: parsePort(values.port, spec.role),
    help: values.help ?? false,
    once: Boolean(values.once),
    timeout: parseSeconds(values.timeout as string | undefined),
  };
}

/** The `--help` text: what the script does and every flag it takes. */
export function usage(spec: ScriptSpec, summary: string): string {
  const lines = [
    `${summary}`,
    "",
    `usage: deno run --allow-net ${spec.script} [options]`,
    "",
    `  --host ADDRESS   ${spec.role === "server" ? "address to bind" : "server address"} ` +
    `(default ${DEFAULT_HOST}; ::1 for IPv6)`,
    `  --port PORT      ${
      spec.role === "server" ? "port to bind, 0 for any free port" : "server port"
    }` +
    ` (default ${DEFAULT_PORT})`,
  ];
  if (spec.once) {
    lines.push("  --once           serve one connection, then exit (as the tutorial does)");
  }
  if (spec.timeout) {
    lines.push(
      `  --timeout SEC    how long to wait for each reply (default ${DEFAULT_TIMEOUT_SECONDS})`,
    );
  }
  lines.push("  --help           show this help");
  return lines.join("\n");
}

function parsePort(text: string | undefined, role: ScriptSpec["role"]): number {
  if (text === undefined) return DEFAULT_PORT;
  const lowest = role === "server" ? 0 : 1;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= lowest && port <= 65535)) {
    throw new UsageError(`--port must be a whole number from ${lowest} to 65535, not "${text}"`);
  }
  return port;
}

function parseSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_SECONDS;
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(seconds > 0)) throw new UsageError(`--timeout must be a number of seconds, not "${text}"`);
  return seconds;
}

/** parseArgs' messages are long and name internals; keep the part a user can act on. */
function parseArgsMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = message.match(/Unknown option '([^']+)'/);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = message.match(/Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/);
  if (missing) return `${missing[1]} needs a value`;
  const ambiguous = message.match(/Option '(?:-\w, )?(--[\w-]+)' argument is ambiguous/);
  if (ambiguous) {
    return `${ambiguous[1]} needs a value (write ${
      ambiguous[1]
    }=VALUE for one that starts with "-")`;
  }
  const positional = message.match(/Unexpected argument '([^']+)'/);
  if (positional) return `unexpected argument "${positional[1]}"`;
  return message.split("\n")[0];
}
