/**
 * Command-line flags: a parser of declared flags and positionals (`parseCommandLine`), and on top
 * of it the set every script takes, `--host`, `--port`, `--trace`, `--trace-json` and `--help`,
 * around the flags each script declares where it starts (`parseFlags`). A caller gets exactly
 * its flags back, typed; a bad one is refused in a sentence that says what to change.
 * @example
 * ```ts
 * import { parseFlags, seconds } from "./flags.ts";
 * parseFlags("client", { timeout: seconds(2, "wait") }, ["--timeout", ".5"]).timeout; // 0.5
 * ```
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

const [HOST, PORT] = ["127.0.0.1", 5005]; // the tutorial's ("127.0.0.1", 5005)
/** 64 KiB: a receive holds the largest datagram (65,507 B on IPv4), and a TCP read as much. */
const RECV_SIZE = 65_536;
/** A bad flag or value: the script prints the message, points at `--help` and exits 2. */
export class UsageError extends Error {}
/** A flag: its default and `--help` line; one that takes a value names it there (`SEC`). */
export type Flag<Value> = { default: Value; help: string; arg?: string; rule?: Rule };
/** What a number must be: from `min` (up to `max`, if any), whole or not; `mustBe` in words. */
export type Rule = { min: number; max?: number; whole?: boolean; mustBe: string };
/** Declared flags, by name: `maxConnections` is `--max-connections`. */
export type Flags = Record<string, Flag<number> | Flag<boolean> | Flag<string>>;
/** What parsing gives: a value of its own type for each declared flag. */
export type Values<F extends Flags> = { [Name in keyof F]: F[Name]["default"] };
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
  number(byDefault, help, "N", whole(1));
/** How many bytes one receive may take (a datagram longer is cut), up to 64 KiB, by default. */
export const bytesPerReceive = (help: string): Flag<number> =>
  number(RECV_SIZE, help, "BYTES", whole(1, RECV_SIZE));
/** A probability from 0 to 1. */
export const probability = (help: string): Flag<number> =>
  number(0, help, "P", { min: 0, max: 1, mustBe: "a probability from 0 to 1" });
function number(byDefault: number, help: string, arg: string, rule: Rule): Flag<number> {
  return { default: byDefault, help: `${help} (default ${byDefault})`, arg, rule };
}
function whole(min: number, max?: number): Rule {
  const mustBe = max ? `a whole number from ${min} to ${max}` : `a whole number of at least ${min}`;
  return { min, max, whole: true, mustBe };
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
/** A script's flags: its own amid the ones every script takes, in `--help` order. */
export type ScriptFlags<F extends Flags> =
  & { host: Flag<string>; port: Flag<number>; recvSize: Flag<number> }
  & F
  & { trace: Flag<boolean>; traceJson: Flag<boolean>; help: Flag<boolean> };
/** `flags` amid the ones every script takes, in `--help` order. */
export function withCommon<F extends Flags>(role: Role, flags: F): ScriptFlags<F> {
  const server = role === "server";
  const host = `${server ? "address to bind" : "server address"} (default ${HOST}; ::1 for IPv6)`;
  const port = server ? "port to bind, 0 for any free port" : "server port";
  return {
    host: { default: HOST, help: host, arg: "ADDRESS" },
    port: number(PORT, port, "PORT", whole(server ? 0 : 1, 65535)),
    recvSize: bytesPerReceive("the most bytes one receive takes: the post's recv(1024)"),
    ...flags,
    trace: toggle("print every socket call on stderr, named as in the tutorial"),
    traceJson: toggle("the same as JSON lines (what deno task demo draws)"),
    help: toggle("show this help"),
  };
}
/** The flags in `args` for a script of `role`; throws a `UsageError` naming the first bad one. */
export function parseFlags<F extends Flags>(
  role: Role,
  flags: F,
  args: string[] = Deno.args,
): Values<ScriptFlags<F>> {
  return parseCommandLine(withCommon(role, flags), args).values;
}
/** `args` read by `flags`: each flag's value (its default unless given) and, where `positionals`
 * allows them, the other words in order; throws a `UsageError` naming the first bad one. */
export function parseCommandLine<F extends Flags>(
  flags: F,
  args: string[],
  positionals = false,
): { values: Values<F>; positionals: string[] } {
  const values: Record<string, unknown> = {};
  const options: ParseArgsOptionsConfig = {};
  for (const name in flags) {
    values[name] = flags[name].default;
    options[kebab(name)] = { type: flags[name].arg ? "string" : "boolean" };
    if (name === "help") options.help.short = "h";
  }
  const strict = false; // unknown flags and missing values are told apart below, by their tokens
  const parsed = parseArgs({ args, options, strict, allowPositionals: true, tokens: true });
  for (const token of parsed.tokens) {
    if (token.kind === "positional" && !positionals) {
      throw new UsageError(`unexpected argument "${token.value}"`);
    }
    if (token.kind !== "option") continue; // a positional, or "--"
    const name = Object.keys(flags).find((name) => kebab(name) === token.name);
    if (name === undefined) throw new UsageError(`unknown option ${token.rawName}`);
    const [flag, text, { arg, rule }] = [`--${token.name}`, token.value, flags[name]];
    if (!arg) {
      if (text !== undefined) throw new UsageError(`${flag} takes no value`);
      values[name] = true;
    } else if (text === undefined || (!token.inlineValue && isFlagLike(text, rule))) {
      const hint = text === undefined ? "" : ` (write ${flag}=VALUE for one that starts with "-")`;
      throw new UsageError(`${flag} needs a value${hint}`);
    } else if (!rule) { // --host
      if (!text.trim()) throw new UsageError("--host needs an address, e.g. 127.0.0.1 or ::1");
      values[name] = canonicalHost(text.replace(/^\[(.*)\]$/, "$1")); // [::1], as in a URL
    } else {
      // Digits, with a fraction where one makes sense (2, 0.5, .5); no sign, exponent or spaces.
      const n = (rule.whole ? /^\d+$/ : /^(\d+\.?\d*|\.\d+)$/).test(text) ? Number(text) : NaN;
      if (n >= rule.min && n <= (rule.max ?? Infinity)) values[name] = n;
      else throw new UsageError(`${flag} must be ${rule.mustBe}, not "${text}"`);
    }
  }
  return { values: values as Values<F>, positionals: parsed.positionals };
}
/** True when `text`, the word after a flag, looks like the next flag; `-1` is a bad number. */
const isFlagLike = (text: string, rule?: Rule) =>
  text.startsWith("-") && !(rule && /^-[\d.]/.test(text));
/** An IPv6 address as Deno writes a peer's (`0:0:0:0:0:0:0:1` is `::1`); any other host as is. */
const canonicalHost = (host: string) =>
  URL.canParse(`http://[${host}]/`) ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host;
/** `--help`'s list of `flags`, a line each: the flag (and its value's name), then what it does. */
export function listFlags(flags: Flags): string[] {
  const rows = Object.entries(flags).map(([name, flag]) => [
    `${name === "help" ? "-h, " : ""}--${kebab(name)}${flag.arg ? ` ${flag.arg}` : ""}`,
    flag.help,
  ]);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`);
}
