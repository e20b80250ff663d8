/**
 * Where the demo draws: rows on stdout as the steps come, below the client's `->` prompt when
 * one is showing, and with `--mermaid` the whole exchange as Mermaid text at the end.
 *
 * @example
 * ```ts
 * import { createScreen } from "./screen.ts";
 * const screen = createScreen("udp", { mermaid: true });
 * await screen.end("127.0.0.1:5005");
 * ```
 * @module
 */
import { layoutFor, NARROWEST, renderHeader, renderRow, type Step, toMermaid } from "./diagram.ts";

/** The demo's output. */
export type Screen = {
  /** Whether steps are drawn as they come (else only the Mermaid text, at the end). */
  live: boolean;
  /** Draws a step, or keeps it for the Mermaid text. */
  draw(step: Step): void;
  /** Shows the client's `->` prompts (its stdout at a terminal) until it ends. */
  showPrompts(stdout: ReadableStream<Uint8Array>): Promise<void>;
  /** The user typed a line and its Enter (echoed by the terminal): no prompt is showing now. */
  typed(): void;
  /** Erases a prompt left on the last line. */
  clearPrompt(): void;
  /** Writes the Mermaid text if asked, once every row is out; `serverAddress` names the server. */
  end(serverAddress: string): Promise<void>;
};

/** A screen for `protocol`; rows are live unless `mermaid` goes to a file or a pipe. */
export function createScreen(
  protocol: "udp" | "tcp",
  { mermaid }: { mermaid: boolean },
): Screen {
  const terminal = Deno.stdout.isTerminal();
  const live = !mermaid || terminal;
  const steps: Step[] = [];
  // The client's prompts and the lines typed at them, counted apart: they come down two pipes,
  // its stdout and its trace, in either order. More prompts than lines: it waits at one.
  let [prompts, lines] = [0, 0];
  const waiting = () => prompts > lines;
  let shown = false; // a "->" of ours is the last thing on the screen
  const prompt = () => {
    if (waiting() && !shown) write("->");
    shown ||= waiting();
  };
  let out = Promise.resolve();
  const write = (text: string) =>
    out = out.then(() => writeAll(encoder.encode(text))).catch(() => {});
  // The terminal's width now, and after each resize for the rows that follow; said once if it is
  // narrower than the diagram can be.
  let [layout, narrow] = [layoutFor(80, protocol), false];
  const fit = () => {
    const columns = (terminal && Deno.consoleSize().columns) || 80; // 0: a terminal of no size
    layout = layoutFor(columns, protocol, colourful());
    if (columns < NARROWEST && !narrow && live) {
      write(`(${columns} columns: the rows need ${NARROWEST} and wrap)\n`);
    }
    narrow ||= columns < NARROWEST;
    if (live) write(renderHeader(layout).join("\n") + "\n");
  };
  fit();
  const resized = () => {
    if (shown) write("\r\x1b[K"); // the new header takes the prompt's place, then the prompt
    shown = false;
    fit();
    prompt();
  };
  const resizable = terminal && live && Deno.build.os !== "windows";
  if (resizable) Deno.addSignalListener("SIGWINCH", resized);

  return {
    live,
    draw(step) {
      steps.push(step);
      if (!live) return;
      const rows = renderRow(step, layout).join("\n") + "\n";
      write(shown ? `\r\x1b[K${rows}` : rows); // in the prompt's place, which comes after
      shown = false;
      prompt();
    },
    async showPrompts(stdout) {
      for await (const text of stdout.pipeThrough(new TextDecoderStream())) {
        // Replies are drawn as `print`; only the prompt is shown as it is.
        if (text.endsWith("->")) prompts++;
        else if (text.endsWith("\n") && waiting()) { // Ctrl-D ended the prompt's line
          lines = prompts;
          if (shown) write("\n");
          shown = false;
        }
        prompt();
      }
    },
    typed() {
      lines++;
      shown = false; // the terminal echoed the Enter: a new line
      prompt();
    },
    clearPrompt() {
      if (shown) write("\r\x1b[K");
      shown = false;
    },
    async end(serverAddress) {
      if (resizable) Deno.removeSignalListener("SIGWINCH", resized);
      if (mermaid) write(toMermaid(steps, layout, serverAddress));
      await out;
    },
  };
}

const encoder = new TextEncoder();

/** Colours as the scripts use them: at a terminal, unless `NO_COLOR` is set. */
function colourful(): boolean {
  return Deno.stdout.isTerminal() && !Deno.noColor;
}

/** Writes every byte to stdout: one `write` may take only part of them. */
async function writeAll(bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await Deno.stdout.write(bytes.subarray(written));
  }
}
