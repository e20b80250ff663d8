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

/** What a number given to a flag must be: its name in `--help`, its range, and how to say it. */
interface NumberRule {
  name: "SEC" | "N" | "P";
  /** What the text must look like: digits, with a fraction where one makes sense. */
  digits: RegExp;
  says: string;
  allows(value: number): boolean;
}

/** The longest a timer waits: 2^31 − 1 ms. A longer one would fire at once. */
const MAX_SECONDS = 2_147_483;
/** Digits with an optional fraction: `2`, `0.5`; no sign, exponent or spaces. */
const DECIMAL = /^\d+(\.\d+)?$/;
const SECONDS: NumberRule = {
  name: "SEC",
  digits: DECIMAL,
  says: `a number of seconds from 0 to ${MAX_SECONDS} (like 2 or 0.5)`,
  allows: (value) => value >= 0 && value <= MAX_SECONDS,
};
const SECONDS_ABOVE_0: NumberRule = {
  name: "SEC",
  digits: DECIMAL,
  says: `a number of seconds above 0 and at most ${MAX_SECONDS} (like 2 or 0.5)`,
  allows: (value) => value > 0 && value <= MAX_SECONDS,
};
const PROBABILITY: NumberRule = {
  name: "P",
  digits: DECIMAL,
  says: "a probability from 0 to 1",
  allows: (value) => value >= 0 && value <= 1,
};
const wholeNumber = (min: number, max = Infinity): NumberRule => ({
  name: "N",
  digits: /^\d+$/, // "5005.0" is not a port
  says: `a whole number from ${min}${max < Infinity ? ` to ${max}` : ""}`,
  allows: (value) => Number.isInteger(value) && value >= min && value <= max,
});

const COUNT = wholeNumber(1);

/** One flag: a switch (`fallback: false`), or a number that follows `rule`. */
const flag = <Fallback extends number | false>(
  fallback: Fallback,
  help: string,
  rule?: NumberRule,
) => ({ fallback, help, rule });

/** The flags a script may opt into, each described once; `maxConnections` is --max-connections. */
export const FLAGS = {
  once: flag(false, "serve one connection, then exit (as the tutorial does)"),
  timeout: flag(2, "how long to wait for each reply (default 2)", SECONDS_ABOVE_0),
  quiet: flag(false, "no log line per connection"),
  maxConnections: flag(1024, "connections served at once; extras are closed (default 1024)", COUNT),
  idleTimeout: flag(0, "close a connection that sends nothing for SEC (default 0: never)", SECONDS),
  grace: flag(2, "time open connections get to finish after Ctrl-C (default 2)", SECONDS),
  lineByLine: flag(false, "piped input too: send a line, wait for its reply, then the next"),
  drop: flag(0, "drop each reply with probability P, as a network may (default 0)", PROBABILITY),
  duplicate: flag(0, "send each reply twice with probability P (default 0)", PROBABILITY),
};

/** A flag a script may take beyond `--host`, `--port`, `--trace` and `--help`. */
export type ExtraFlag = keyof typeof FLAGS;

/**
 * Every flag's value after parsing (a flag a script does not take keeps its default): `host`
 * without brackets, `port` (0: any free port), `help`, `trace`, and one field per `ExtraFlag`.
 */
export type Options =
  & { host: string; port: number; help: boolean; trace: boolean }
  & { [Flag in ExtraFlag]: (typeof FLAGS)[Flag]["fallback"] extends false ? boolean : number };

/** What one script is: its path (for messages), its role and the extra flags it takes. */
export interface ScriptSpec {
  /** The script's path from the project root, as a reader types it: `udp/server.ts`. */
  script: string;
  /** Servers bind `--host`/`--port` (port 0 allowed); clients reach them. */
  role: "server" | "client";
  /** The extra flags this script takes. */
  flags?: readonly ExtraFlag[];
  /** Where this script's default or help for a flag differs from the shared one. */
  overrides?: Partial<Record<ExtraFlag, { fallback?: number; help?: string }>>;
  /**
   * For a client that binds an address of its own before it sends (UDP): which one, for a
   * server at `serverHost`. The network must be allowed there too, and the hints say so.
   */
  bindsFor?: (serverHost: string) => string;
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
    declared[flagName(flag)] = { type: FLAGS[flag].rule ? "string" : "boolean" };
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
    port: values.port === undefined ? DEFAULT_PORT : parseNumber(
      String(values.port),
      "port",
      wholeNumber(spec.role === "server" ? 0 : 1, 65535),
    ),
    help: Boolean(values.help),
    trace: Boolean(values.trace),
  };
  for (const flag of Object.keys(FLAGS) as ExtraFlag[]) {
    const { fallback, rule } = FLAGS[flag];
    const name = flagName(flag);
    const given = extras.includes(flag) ? values[name] : undefined;
    options[flag] = given === undefined
      ? spec.overrides?.[flag]?.fallback ?? fallback
      : rule
      ? parseNumber(String(given), name, rule)
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
      const { rule, help } = FLAGS[flag];
      const text = spec.overrides?.[flag]?.help ?? help;
      return [`--${flagName(flag)}${rule ? ` ${rule.name}` : ""}`, text];
    }),
    ["--trace", "print every socket call on stderr, named as in the tutorial"],
    ["-h, --help", "show this help"],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    summary,
    "",
    `usage: deno run --allow-net=${DEFAULT_HOST} ${spec.script} [options]`,
    // 192.0.2.1 stands for another machine's address (TEST-NET-1, never in use).
    `       (for --host ::1: '--allow-net=[::1]'; for another host: --allow-net=${
      spec.bindsFor ? `HOST,${spec.bindsFor("192.0.2.1")}` : "HOST"
    })`,
    "",
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
  ].join("\n");
}

/** `text` as the number for `--name`, or a `UsageError` saying what it must be. */
function parseNumber(text: string, name: string, rule: NumberRule): number {
  const value = rule.digits.test(text) ? Number(text) : NaN;
  if (rule.allows(value)) return value;
  throw new UsageError(`--${name} must be ${rule.says}, not "${text}"`);
}

/** parseArgs' messages are long and name internals; keep the part a user can act on. */
function parseArgsMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  for (const [pattern, say] of PARSE_ARGS_MESSAGES) {
    const found = message.match(pattern);
    if (found) return say(found[1]);
  }
  return message.split("\n")[0];
}

const FLAG = "'(?:-\\w, )?(--[\\w-]+)";
const PARSE_ARGS_MESSAGES: [RegExp, (name: string) => string][] = [
  [/Unknown option '([^']+)'/, (flag) => `unknown option ${flag}`],
  [new RegExp(`Option ${FLAG} <value>' argument missing`), (flag) => `${flag} needs a value`],
  [
    new RegExp(`Option ${FLAG}' argument is ambiguous`),
    (flag) => `${flag} needs a value (write ${flag}=VALUE for one that starts with "-")`,
  ],
  [/Unexpected argument '([^']+)'/, (argument) => `unexpected argument "${argument}"`],
  [new RegExp(`Option ${FLAG}' does not take an argument`), (flag) => `${flag} takes no value`],
];
