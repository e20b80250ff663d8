/**
 * Command-line flags: every script takes `--host`, `--port`, `--trace`, `--trace-json` and `--help`
 * and declares the rest where it starts. It gets exactly those back, typed; a bad one is refused
 * in a sentence that says what to change.
 *
 * @example
 * ```ts
 * import { parseFlags, seconds } from "./flags.ts";
 * parseFlags("client", { timeout: seconds(2, "wait") }, ["--timeout", ".5"]).timeout; // 0.5
 * ```
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

const [HOST, PORT] = ["127.0.0.1", 5005]; // the tutorial's ("127.0.0.1", 5005)

/** A bad flag or value: the script prints the message, points at `--help` and exits 2. */
export class UsageError extends Error {}

/** A flag: its default and `--help` line; one that takes a value names it there (`SEC`). */
export type Flag<Value> = { default: Value; help: string; arg?: string; rule?: Rule };
/** What a number must be: from `min` (up to `max`, if any), whole or not; `mustBe` in words. */
export type Rule = { min: number; max?: number; whole?: boolean; mustBe: string };
/** The flags a script declares, by name: `maxConnections` is `--max-connections`. */
export type Flags = Record<string, Flag<number> | Flag<boolean>>;
/** What parsing gives: the common flags, and a value of its own type for each declared flag. */
export type Values<F extends Flags> =
  & { host: string; port: number; trace: boolean; traceJson: boolean; help: boolean }
  & { [Name in keyof F]: F[Name]["default"] };
/** Servers bind `--host` and `--port` (0: any free port); clients reach a server there. */
export type Role = "server" | "client";

/** A switch: off unless given. */
export const toggle = (help: string): Flag<boolean> => ({ default: false, help });

/** A number of seconds from `min` up to 2^31 − 1 ms, the longest a timer waits. */
export function seconds(byDefault: number, help: string, min = 0): Flag<number> {
  const mustBe = `a number of seconds from ${min} to 2147483 (like 2 or 0.5)`;
  return number(byDefault, help, "SEC", { min, max: 2_147_483, mustBe });
}

/** A whole number from 1 up. */
export const wholeNumber = (byDefault: number, help: string): Flag<number> =>
  number(byDefault, help, "N", { min: 1, whole: true, mustBe: "a whole number of at least 1" });

/** A probability from 0 to 1. */
export const probability = (help: string): Flag<number> =>
  number(0, help, "P", { min: 0, max: 1, mustBe: "a probability from 0 to 1" });

function number(byDefault: number, help: string, arg: string, rule: Rule): Flag<number> {
  return { default: byDefault, help: `${help} (default ${byDefault})`, arg, rule };
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** `flags` amid the ones every script takes, in `--help` order. */
function withCommon(role: Role, flags: Flags): Record<string, Flag<string | number | boolean>> {
  const [server, min] = [role === "server", role === "server" ? 0 : 1];
  const host = `${server ? "address to bind" : "server address"} (default ${HOST}; ::1 for IPv6)`;
  const port = server ? "port to bind, 0 for any free port" : "server port";
  const mustBe = `a whole number from ${min} to 65535`;
  return {
    host: { default: HOST, help: host, arg: "ADDRESS" },
    port: number(PORT, port, "PORT", { min, max: 65535, whole: true, mustBe }),
    ...flags,
    trace: toggle("print every socket call on stderr, named as in the tutorial"),
    traceJson: toggle("the same as JSON lines (what deno task demo draws)"),
    help: toggle("show this help"),
  };
}

/** The flags in `args` for a script of `role`; throws a `UsageError` naming the first bad one. */
export function parseFlags<F extends Flags>(role: Role, flags: F, args = Deno.args): Values<F> {
  const all = withCommon(role, flags);
  const values = Object.fromEntries(Object.entries(all).map(([name, f]) => [name, f.default]));
  const options: ParseArgsOptionsConfig = { help: { type: "boolean", short: "h" } };
  for (const name in all) if (all[name].arg) options[kebab(name)] = { type: "string" };
  const strict = false; // unknown flags and missing values are told apart below, by their tokens
  const { tokens } = parseArgs({ args, options, strict, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === "positional") throw new UsageError(`unexpected argument "${token.value}"`);
    if (token.kind !== "option") continue; // "--"
    const name = Object.keys(all).find((name) => kebab(name) === token.name);
    if (name === undefined) throw new UsageError(`unknown option ${token.rawName}`);
    const [flag, text, { arg, rule }] = [`--${token.name}`, token.value, all[name]];
    if (!arg) {
      if (text !== undefined) throw new UsageError(`${flag} takes no value`);
      values[name] = true;
    } else if (text === undefined || (!token.inlineValue && isFlagLike(text, rule))) {
      const hint = text === undefined ? "" : ` (write ${flag}=VALUE for one that starts with "-")`;
      throw new UsageError(`${flag} needs a value${hint}`);
    } else if (!rule) { // --host
      if (!text.trim()) throw new UsageError("--host needs an address, e.g. 127.0.0.1 or ::1");
      values.host = text.replace(/^\[(.*)\]$/, "$1"); // [::1], as in a URL
    } else {
      // Digits, with a fraction where one makes sense (2, 0.5, .5); no sign, exponent or spaces.
      const n = (rule.whole ? /^\d+$/ : /^(\d+\.?\d*|\.\d+)$/).test(text) ? Number(text) : NaN;
      if (n >= rule.min && n <= (rule.max ?? Infinity)) values[name] = n;
      else throw new UsageError(`${flag} must be ${rule.mustBe}, not "${text}"`);
    }
  }
  return values as Values<F>;
}

/** True when `text`, the word after a flag, looks like the next flag; `-1` is a bad number. */
const isFlagLike = (text: string, rule?: Rule) =>
  text.startsWith("-") && !(rule && /^-[\d.]/.test(text));

/** The `--help` text of a script; `allowNet` is what another host needs in `--allow-net=`. */
export function usage(
  script: { path: string; role: Role; summary: string; flags: Flags },
  allowNet: string,
): string {
  const rows = Object.entries(withCommon(script.role, script.flags)).map(([name, flag]) => [
    `${name === "help" ? "-h, " : ""}--${kebab(name)}${flag.arg ? ` ${flag.arg}` : ""}`,
    flag.help,
  ]);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    script.summary,
    "",
    `usage: deno run --allow-net=${HOST} ${script.path} [options]`,
    `       (for --host ::1: '--allow-net=[::1]'; for another host: --allow-net=${allowNet})`,
    "",
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    "",
    script.role === "server"
      ? "Ctrl-C or SIGTERM stops it: the socket is closed, exit status 0. It exits 1 when it cannot\n" +
        "start (the port is in use, no network permission), 2 for a bad flag."
      : "Exit status: 0 when every line was answered, 1 when not (one line on stderr says why),\n" +
        "2 for a bad flag, 130 after Ctrl-C, 143 after SIGTERM.",
  ].join("\n");
}
