/**
 * One line per event on stderr, prefixed with the script's name:
 * `[tcp/server] 127.0.0.1:51234 reset the connection`. Stdout stays for the protocol's own
 * output (a server's `listening on ...` line, a client's replies). Colour only when stderr is a
 * terminal and `NO_COLOR` is unset; `styleText` comes from `node:util`, which Deno ships, so
 * nothing is downloaded.
 *
 * @example
 * ```ts
 * import { createLog } from "./log.ts";
 * const log = createLog("udp/server");
 * log.info("listening");
 * ```
 * @module
 */
import { styleText } from "node:util";

/** Where a script reports what happens to it; `createLog` makes one. */
export interface Log {
  /** An ordinary event about one peer: it connected, it left. Silenced by `--quiet`. */
  info(message: string): void;
  /** Something went wrong with one peer or one message; serving goes on. Silenced by `--quiet`. */
  warn(message: string): void;
  /** Something about the whole script that is always worth saying (an exposed address). */
  notice(message: string): void;
  /** The script is about to stop because of this. */
  error(message: string): void;
}

const encoder = new TextEncoder();

/** True when stderr is a terminal and `NO_COLOR` is unset: only then are lines coloured. */
export function stderrHasColour(): boolean {
  return Deno.stderr.isTerminal() && !Deno.noColor;
}

/** `text` in a `node:util` style (`"dim"`, `"red"`, ...) when `colour`, else as it is. */
export function paint(
  format: Parameters<typeof styleText>[0],
  text: string,
  colour: boolean,
): string {
  return colour ? styleWithoutStreamCheck(format, text, { validateStream: false }) : text;
}

/**
 * `styleText` with its options argument, which older Deno's Node types lack (Deno 2.1's take
 * two arguments; its `styleText` colours and ignores the third). `colour` has already decided.
 */
const styleWithoutStreamCheck = styleText as (
  format: Parameters<typeof styleText>[0],
  text: string,
  options: { validateStream: boolean },
) => string;

/** Writes one line to stderr. A closed stderr is no reason to stop serving: it is ignored. */
export function writeStderrLine(text: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(text + "\n"));
  } catch {
    // nowhere left to report
  }
}

/** A log for the script `name`; `quiet` drops the per-peer lines (info and warn). */
export function createLog(name: string, quiet = false): Log {
  const colour = stderrHasColour();

  const style = (format: Parameters<typeof styleText>[0], text: string) =>
    paint(format, text, colour);
  const prefix = style("dim", `[${name}]`);
  const ignore = () => {};
  return {
    info: quiet ? ignore : (message) => writeStderrLine(`${prefix} ${message}`),
    warn: quiet ? ignore : (message) => writeStderrLine(`${prefix} ${style("yellow", message)}`),
    notice: (message) => writeStderrLine(`${prefix} ${style("yellow", message)}`),
    error: (message) => writeStderrLine(`${prefix} ${style("red", `error: ${message}`)}`),
  };
}
