/**
 * Command-line flags shared by the four scripts: `--host`, `--port`, `--help`, plus the flags
 * a script opts into (`--once`, `--timeout`, `--quiet`, ...), all described once in `FLAGS`.
 * Parsed with `parseArgs` from `node:util`, which Deno ships: nothing to download.
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
/** The tutorial's port. */
export const DEFAULT_PORT = 5005;

/** One flag's `--help` line, default and parser (none: a switch that takes no value). */
export interface FlagSpec {
  /** The value's name in `--help`: `SEC`, `N`, `P`. */
  value?: string;
  /** The `--help` line. */
  help: string;
  /** The value when the flag is not given. */
  fallback: number | boolean;
  /** Turns the text given into the value, or throws a `UsageError`. */
  parse?: (text: string, name: string) => number;
}

const seconds = (min: number, exclusive = false) => (text: string, name: string) =>
  parseNumber(text, name, { min, exclusive, max: MAX_SECONDS });
const probability = (text: string, name: string) =>
  parseNumber(text, name, { min: 0, max: 1, kind: "a probability" });
/** The longest a timer waits: 2^31 − 1 ms. A longer one would fire at once. */
const MAX_SECONDS = 2_147_483;

/** The flags a script may opt into, each described once; `maxConnections` is --max-connections. */
export const FLAGS = {
  once: { help: "serve one connection, then exit (as the tutorial does)", fallback: false },
  timeout: {
    value: "SEC",
    help: "how long to wait for each reply (default 2)",
    fallback: 2,
    parse: seconds(0, true),
  },
  quiet: { help: "no log line per connection", fallback: false },
  maxConnections: {
    value: "N",
    help: "connections served at once; extras are closed (default 1024)",
    fallback: 1024,
    parse: (text: string, name: string) => parseNumber(text, name, { min: 1, whole: true }),
  },
  idleTimeout: {
    value: "SEC",
    help: "close a connection that sends nothing for SEC (default 0: never)",
    fallback: 0,
    parse: seconds(0),
  },
  grace: {
    value: "SEC",
    help: "time open connections get to finish after Ctrl-C (default 2)",
    fallback: 2,
    parse: seconds(0),
  },
  lineByLine: {
    help: "piped input too: send a line, wait for its reply, then the next",
    fallback: false,
  },
  drop: {
    value: "P",
    help: "drop each reply with probability P, as a network may (default 0)",
    fallback: 0,
    parse: probability,
  },
  duplicate: {
    value: "P",
    help: "send each reply twice with probability P (default 0)",
    fallback: 0,
    parse: probability,
  },
} as const satisfies Record<string, FlagSpec>;

/** A flag a script may take beyond `--host`, `--port`, `--trace` and `--help`. */
export type ExtraFlag = keyof typeof FLAGS;

/**
 * Every flag's value after parsing (a flag a script does not take keeps its default): `host`
 * without brackets, `port` (0: any free port), `help`, `trace`, and one field per `ExtraFlag`.
 */
export type Options =
  & { host: string; port: number; help: boolean; trace: boolean }
  & { [Flag in ExtraFlag]: (typeof FLAGS)[Flag]["fallback"] extends boolean ? boolean : number };

/** A script's own default and help text for one of its flags. */
export interface FlagOverride {
  /** The value when the flag is not given. */
  fallback?: number;
  /** The `--help` line. */
  help?: string;
}

/** What one script is: its path (for messages), its role and the extra flags it takes. */
export interface ScriptSpec {
  /** The script's path from the project root, as a reader types it: `udp/server.ts`. */
  script: string;
  /** Servers bind `--host`/`--port` (port 0 allowed); clients reach them. */
  role: "server" | "client";
  /** The extra flags this script takes. */
  flags?: readonly ExtraFlag[];
  /** Where this script's default or help for a flag differs from the shared one. */
  overrides?: Partial<Record<ExtraFlag, FlagOverride>>;
}

/** `maxConnections` → `max-connections`. */
const flagName = (flag: string) => flag.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** Parses `args`; throws a `UsageError` naming the bad flag or value. */
export function parseOptions(spec: ScriptSpec, args: string[] = Deno.args): Options {
  const extras = spec.flags ?? [];
  const declared: Record<string, { type: "string" | "boolean"; short?: string }> = {
    host: { type: "string" },
    port: { type: "string" },
    help: { type: "boolean", short: "h" },
    trace: { type: "boolean" },
  };
  for (const flag of extras) {
    declared[flagName(flag)] = { type: "parse" in FLAGS[flag] ? "string" : "boolean" };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options: declared }));
  } catch (error) {
    throw new UsageError(parseArgsMessage(error));
  }
  const host = (values.host as string | undefined) ?? DEFAULT_HOST;
  if (host.trim() === "") throw new UsageError("--host needs an address, e.g. 127.0.0.1 or ::1");
  const options: Record<string, string | number | boolean> = {
    host: host.replace(/^\[(.*)\]$/, "$1"),
    port: parsePort(values.port as string | undefined, spec.role),
    help: Boolean(values.help),
    trace: Boolean(values.trace),
  };
  for (const flag of Object.keys(FLAGS) as ExtraFlag[]) {
    const flagSpec: FlagSpec = FLAGS[flag];
    const name = flagName(flag);
    const given = extras.includes(flag) ? values[name] : undefined;
    options[flag] = given === undefined
      ? spec.overrides?.[flag]?.fallback ?? flagSpec.fallback
      : flagSpec.parse
      ? flagSpec.parse(String(given), name)
      : true;
  }
  return options as unknown as Options;
}

/** The `--help` text: what the script does and every flag it takes. */
export function usage(spec: ScriptSpec, summary: string): string {
  const server = spec.role === "server";
  const rows: [string, string][] = [
    [
      "--host ADDRESS",
      `${server ? "address to bind" : "server address"} (default ${DEFAULT_HOST}; ::1 for IPv6)`,
    ],
    [
      "--port PORT",
      `${server ? "port to bind, 0 for any free port" : "server port"} (default ${DEFAULT_PORT})`,
    ],
    ...(spec.flags ?? []).map((flag): [string, string] => {
      const { value, help }: FlagSpec = FLAGS[flag];
      const text = spec.overrides?.[flag]?.help ?? help;
      return [`--${flagName(flag)}${value ? ` ${value}` : ""}`, text];
    }),
    ["--trace", "print every socket call on stderr, named as in the tutorial"],
    ["-h, --help", "show this help"],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    summary,
    "",
    `usage: deno run --allow-net=${DEFAULT_HOST} ${spec.script} [options]`,
    `       (for --host ::1: '--allow-net=[::1]'; for another host: --allow-net=HOST)`,
    "",
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
  ].join("\n");
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

function parseNumber(
  text: string,
  name: string,
  {
    min,
    max = Infinity,
    exclusive = false,
    whole = false,
    kind = whole ? "a whole number" : "a number of seconds",
  }: { min: number; max?: number; exclusive?: boolean; whole?: boolean; kind?: string },
): number {
  const value = (whole ? /^\d+$/ : /^\d+(\.\d+)?$/).test(text) ? Number(text) : NaN;
  if (!(exclusive ? value > min : value >= min) || value > max) {
    const range = exclusive ? `above ${min}` : `from ${min}`;
    const limit = max === Infinity ? "" : exclusive ? ` and at most ${max}` : ` to ${max}`;
    const example = kind === "a number of seconds" ? " (like 2 or 0.5)" : "";
    throw new UsageError(`--${name} must be ${kind} ${range}${limit}${example}, not "${text}"`);
  }
  return value;
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
  const boolean = message.match(/Option '(?:-\w, )?(--[\w-]+)' does not take an argument/);
  if (boolean) return `${boolean[1]} takes no value`;
  return message.split("\n")[0];
}
