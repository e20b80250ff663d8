/**
 * One line per event on stderr, prefixed with the script's name:
 * `[tcp/server] 127.0.0.1:51234 reset the connection`. Stdout stays for the protocol's own output.
 * Colour only when stderr is a terminal and `NO_COLOR` is unset (`styleText`, from `node:util`).
 *
 * @example
 * ```ts
 * import { createLog } from "./log.ts";
 * createLog("udp/server").info("listening");
 * ```
 * @module
 */
import { styleText } from "node:util";

/** Where a script reports what happens to it. `info` and `warn` are about one peer. */
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

/** A log for `name`; `quiet` drops info and warn; `write`, if given, takes each line instead. */
export function createLog(name: string, quiet = false, write?: (line: string) => void): Log {
  const prefix = paint("dim", `[${name}]`);
  const line = write ?? ((message: string) => writeStderrLine(`${prefix} ${message}`));
  const ignore = () => {};
  return {
    info: quiet ? ignore : line,
    warn: quiet ? ignore : (message) => line(paint("yellow", message)),
    notice: (message) => line(paint("yellow", message)),
    error: (message) => line(paint("red", `error: ${message}`)),
  };
}

/** `text` in a `node:util` style (`"dim"`, `"red"`, ...) when stderr shows colour. */
export function paint(format: "dim" | "red" | "yellow" | "cyan" | "green", text: string): string {
  colour ??= Deno.stderr.isTerminal() && !Deno.noColor; // asked once: it is a system call
  // validateStream: false, because `paint` has decided; Deno 2.1's types lack the third argument.
  return colour ? (styleText as StyleText)(format, text, { validateStream: false }) : text;
}
let colour: boolean | undefined;
type StyleText = (format: string, text: string, options: object) => string;

const encoder = new TextEncoder();

/** Writes one line to stderr. A closed stderr is no reason to stop serving: it is ignored. */
export function writeStderrLine(text: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(text + "\n"));
  } catch {
    // nowhere left to report
  }
}
