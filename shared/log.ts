/**
 * A script's log: a line on stderr per event, after the script's name (stdout is the protocol's).
 * @example
 * ```ts
 * createLog("tcp/server").warn("127.0.0.1:51234 reset the connection");
 * ```
 * @module
 */
import { styleText } from "node:util";
/** Per-peer `info` and `warn` lines, silenced by `--quiet`; `notice` and `error` never are. */
export type Log = Record<"info" | "warn" | "notice" | "error", (message: string) => void>;
/** A log for `name`; `quiet` drops info and warn; `write`, if given, takes each line instead. */
export function createLog(name: string, quiet = false, write?: (line: string) => void): Log {
  const prefix = paint("dim", `[${name}]`);
  const line = write ?? ((message: string) => writeStderrLine(`${prefix} ${message}`));
  const notice = (message: string) => line(paint("yellow", message));
  const error = (message: string) => line(paint("red", `error: ${message}`));
  const log = { info: line, warn: notice, notice, error };
  return quiet ? { ...log, info() {}, warn() {} } : log;
}
/** `text` in a `node:util` style when stderr shows colour (a terminal, and no `NO_COLOR`). */
export function paint(format: "dim" | "red" | "yellow" | "cyan" | "green", text: string): string {
  // validateStream: false, or styleText would ask about stdout, not stderr.
  return colour ? styleText(format, text, { validateStream: false }) : text;
}
const stderrIsTerminal = Deno.stderr.isTerminal(); // asked once: a system call
const colour = stderrIsTerminal && !Deno.noColor;
const encoder = new TextEncoder();
let midLine = false; // the terminal's last line ends in a prompt: a line for stderr goes below it
/** Says whether a prompt (`->`) now waits at the end of the terminal's last line. */
export function promptShown(shown: boolean): void {
  midLine = shown && stderrIsTerminal;
}
/** Writes a line to stderr; a closed stderr is ignored, as no reason to stop serving. */
export function writeStderrLine(text: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(`${midLine ? "\n" : ""}${text}\n`));
  } catch { /* nowhere left to report */ }
  midLine = false;
}
