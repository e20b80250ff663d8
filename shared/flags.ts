/**
 * Command-line flags. Every script takes `--host`, `--port`, `--trace`, `--trace-json` and
 * `--help`, declares the rest where it starts (`{ once: toggle("...") }`) and gets back exactly
 * those, typed. `parseArgs` from `node:util` (Deno ships it) finds the tokens; they are checked
 * here, so that each message says what to change.
 *
 * @example
 * ```ts
 * import { parseFlags, seconds } from "./flags.ts";
 * parseFlags("client", { timeout: seconds(2, "wait") }, ["--timeout", ".5"]).timeout; // 0.5
 * ```
 * @module
 */
import { parseArgs } from "node:util";

/** The tutorial's address: `("127.0.0.1", 5005)`. */
export const DEFAULT_HOST = "127.0.0.1";
/** The tutorial's port. */
export const DEFAULT_PORT = 5005;

/** A bad flag or value: the script prints the message, points at `--help` and exits 2. */
export class UsageError extends Error {
  /** Shown by Deno when one escapes: "UsageError". */
  override name = "UsageError";
}

/**
 * A flag: its `default`, its line in `--help`, and for a number its `value`: its name in `--help`
 * (`SEC`), its range, whether it is whole, and what it must be, in words.
 */
export type Flag<Value extends number | boolean> = {
  default: Value;
  help: string;
  value?: { name: string; min: number; max: number; whole?: boolean; mustBe: string };
};

/** The flags a script declares, by name: `maxConnections` is `--max-connections`. */
export type Flags = Record<string, Flag<number> | Flag<boolean>>;

/** What parsing gives: the common flags, and a value of its own type for each declared flag. */
export type Values<F extends Flags> =
  & { host: string; port: number; trace: boolean; traceJson: boolean; help: boolean }
  & { [Name in keyof F]: F[Name]["default"] };

/** A switch: off unless given. */
export function toggle(help: string): Flag<boolean> {
  return { default: false, help };
}

/** The longest a timer waits: 2^31 − 1 ms. A longer one would fire at once. */
const MAX_SECONDS = 2_147_483;

/** A number of seconds from `min` up. */
export function seconds(byDefault: number, help: string, min = 0): Flag<number> {
  const mustBe = `a number of seconds from ${min} to ${MAX_SECONDS} (like 2 or 0.5)`;
  return number(byDefault, help, { name: "SEC", min, max: MAX_SECONDS, mustBe });
}

/** A whole number from `min` up. */
export function wholeNumber(byDefault: number, help: string, min = 1): Flag<number> {
  const mustBe = `a whole number of at least ${min}`;
  return number(byDefault, help, { name: "N", min, max: Infinity, whole: true, mustBe });
}

/** A probability from 0 to 1. */
export function probability(help: string): Flag<number> {
  return number(0, help, { name: "P", min: 0, max: 1, mustBe: "a probability from 0 to 1" });
}

function number(byDefault: number, help: string, value: Flag<number>["value"]): Flag<number> {
  return { default: byDefault, help: `${help} (default ${byDefault})`, value };
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/**
 * The flags in `args` for a script of `role` that declares `flags`; a server may bind port 0
 * (any free port). Throws a `UsageError` naming the first bad flag or value.
 */
export function parseFlags<F extends Flags>(
  role: "server" | "client",
  flags: F,
  args: string[] = Deno.args,
): Values<F> {
  const min = role === "server" ? 0 : 1;
  const mustBe = `a whole number from ${min} to 65535`;
  const port = number(DEFAULT_PORT, "", { name: "PORT", min, max: 65535, whole: true, mustBe });
  const all: Flags = { port, trace: toggle(""), traceJson: toggle(""), help: toggle(""), ...flags };
  const values: Record<string, unknown> = { host: DEFAULT_HOST };
  const names = new Map([["host", "host"]]);
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    host: { type: "string" },
    help: { type: "boolean", short: "h" },
  };
  for (const [name, flag] of Object.entries(all)) {
    values[name] = flag.default;
    names.set(kebab(name), name);
    options[kebab(name)] ??= { type: flag.value ? "string" : "boolean" };
  }
  const strict = false; // unknown flags and missing values are told apart below, by their tokens
  const { tokens } = parseArgs({ args, options, strict, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === "positional") throw new UsageError(`unexpected argument "${token.value}"`);
    if (token.kind !== "option") continue; // "--"
    const [name, flag, text] = [names.get(token.name), `--${token.name}`, token.value];
    if (name === undefined) throw new UsageError(`unknown option ${token.rawName}`);
    const value = all[name]?.value;
    if (options[token.name].type === "boolean") {
      if (text !== undefined) throw new UsageError(`${flag} takes no value`);
      values[name] = true;
    } else if (text === undefined || (!token.inlineValue && text.startsWith("-"))) {
      const hint = text === undefined ? "" : ` (write ${flag}=VALUE for one that starts with "-")`;
      throw new UsageError(`${flag} needs a value${hint}`);
    } else if (!value) { // --host
      if (!text.trim()) throw new UsageError("--host needs an address, e.g. 127.0.0.1 or ::1");
      values.host = text.replace(/^\[(.*)\]$/, "$1"); // [::1], as in a URL
    } else {
      // Digits, with a fraction where one makes sense (2, 0.5, .5); no sign, exponent or spaces.
      const n = (value.whole ? /^\d+$/ : /^(\d+\.?\d*|\.\d+)$/).test(text) ? Number(text) : NaN;
      if (!(n >= value.min && n <= value.max)) {
        throw new UsageError(`${flag} must be ${value.mustBe}, not "${text}"`);
      }
      values[name] = n;
    }
  }
  return values as Values<F>;
}

/** The `--help` text of `script`; `allowNet` is what another host needs in `--allow-net=`. */
export function usage(
  script: { path: string; role: "server" | "client"; summary: string; flags: Flags },
  allowNet: string,
): string {
  const server = script.role === "server";
  const [host, port] = server ? ["address to bind", "port to bind, 0 for any free port"] : [
    "server address",
    "server port",
  ];
  const rows = [
    ["--host ADDRESS", `${host} (default ${DEFAULT_HOST}; ::1 for IPv6)`],
    ["--port PORT", `${port} (default ${DEFAULT_PORT})`],
    ...Object.entries(script.flags).map((
      [name, { value, help }],
    ) => [`--${kebab(name)}${value ? ` ${value.name}` : ""}`, help]),
    ["--trace", "print every socket call on stderr, named as in the tutorial"],
    ["--trace-json", "the same as JSON lines (what deno task demo draws)"],
    ["-h, --help", "show this help"],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const stops = server
    ? "Ctrl-C or SIGTERM stops it: the socket is closed, exit status 0. It exits 1 when it cannot\n" +
      "start (the port is in use, no network permission), 2 for a bad flag."
    : "Exit status: 0 when every line was answered, 1 when not (one line on stderr says why),\n" +
      "2 for a bad flag, 130 after Ctrl-C, 143 after SIGTERM.";
  return [
    script.summary,
    "",
    `usage: deno run --allow-net=${DEFAULT_HOST} ${script.path} [options]`,
    `       (for --host ::1: '--allow-net=[::1]'; for another host: --allow-net=${allowNet})`,
    "",
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    "",
    stops,
  ].join("\n");
}
