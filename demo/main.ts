/**
 * `deno task demo udp|tcp [LINE...]`: runs the real server and client of one protocol on a free
 * loopback port, each with `--trace-json`, and draws their socket calls live as a two-lane
 * sequence diagram, or with `--mermaid` prints it as a Mermaid `sequenceDiagram` at the end.
 *
 *   deno run --allow-run=deno demo/main.ts udp hello 안녕하세요
 *
 * @example
 * ```ts
 * import { runDemo } from "./main.ts";
 * const status: number = await runDemo(["udp", "hello", "--mermaid"]);
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { toLine } from "../shared/trace.ts";
import {
  type DemoEvent,
  layoutFor,
  orderByCause,
  parseEvent,
  renderHeader,
  renderRow,
  type Side,
  type Step,
  toMermaid,
} from "./diagram.ts";

const HELP = `Draws a UDP or TCP exchange of the real scripts as a sequence diagram.

usage: deno task demo udp|tcp [options] [LINE...]

Starts udp/server.ts and udp/client.ts (or the tcp/ pair) on a free port of 127.0.0.1 and draws
each socket call in its lane (socket, bind, sendto, recvfrom; listen, accept, connect, send,
recv, shutdown, close) and an arrow for every datagram or chunk of bytes on the wire. LINEs are
typed one at a time, each after the reply to the one before; without them, type lines at the
client's -> prompt (Ctrl-D ends), or pipe them in. The exit status is the client's.

  --drop P       udp: the server drops each reply with probability P (a lost datagram)
  --duplicate P  udp: the server sends each reply twice with probability P
  --mermaid      print the exchange as a Mermaid sequenceDiagram instead (no ports, no times)
  --verbose      also print the children's pids and each event as --trace does, on stderr
  -h, --help     show this help

Permissions: --allow-run=deno only, to start the two scripts; they run with
--allow-net=127.0.0.1, the loopback address and nothing else.`;

const ROOT = new URL("..", import.meta.url).pathname;
const encoder = new TextEncoder();
const STOP_LIMIT_MS = 3_000;

/** Runs the demo for command-line `args`; resolves with the exit status (the client's). */
export async function runDemo(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(args);
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [protocol, ...lines] = positionals;
  if (values.help) return console.log(HELP), 0;
  if (protocol !== "udp" && protocol !== "tcp") return usage("say udp or tcp");
  const serverFlags = [];
  for (const flag of ["drop", "duplicate"] as const) {
    if (values[flag] === undefined) continue;
    if (protocol !== "udp") return usage(`--${flag} is for udp`);
    serverFlags.push(`--${flag}`, values[flag]);
  }
  const interactive = lines.length === 0 && Deno.stdin.isTerminal();
  const screen = Deno.stdout.isTerminal();
  const layout = layoutFor(screen ? Deno.consoleSize().columns : 80, protocol, colourful());
  const note = (text: string) => values.verbose && console.error(`[demo] ${text}`);

  // Both children run `deno` itself: this process's executable when allowed, else "deno".
  const allowed = (command: string) =>
    Deno.permissions.querySync({ name: "run", command }).state === "granted";
  const deno = allowed(Deno.execPath()) ? Deno.execPath() : "deno";
  if (!allowed(deno)) {
    console.error(
      "error: the demo starts deno itself: run it as deno task demo, or deno run " +
        "--allow-run=deno demo/main.ts",
    );
    return 1;
  }
  // The server runs in a process group of its own (detached), so that Ctrl-C at the terminal
  // reaches the client alone: the server is stopped once the client has exited, and a client
  // never sees its server go first.
  const run = (script: string, args: string[], stdin: "null" | "piped" | "inherit") =>
    new Deno.Command(deno, {
      args: ["run", "--allow-net=127.0.0.1", script, "--trace-json", ...args],
      cwd: ROOT,
      stdin,
      stdout: "piped",
      stderr: "piped",
      detached: script.endsWith("server.ts"),
    }).spawn();

  // What is drawn: rows live at the terminal (below the prompt's line), or Mermaid at the end.
  let out = Promise.resolve();
  const write = (text: string) =>
    out = out.then(() => writeAll(encoder.encode(text))).catch(() => {});
  let prompting = false; // the client's "->" is the last thing on the screen
  const steps: Step[] = [];
  const order = orderByCause((step) => {
    steps.push(step);
    if (values.verbose) console.error(toLine(step.event, step.event.script));
    if (values.mermaid) return;
    const rows = renderRow(step, layout).join("\n") + "\n";
    write(prompting ? `\r\x1b[K${rows}->` : rows);
  }, !values.mermaid);
  if (!values.mermaid) write(renderHeader(layout).join("\n") + "\n");

  // The server first, on port 0: its first stdout line says which port it got.
  const server = run(`${protocol}/server.ts`, ["--port", "0", ...serverFlags], "null");
  note(`${protocol}/server.ts: pid ${server.pid}`);
  const serverEvents = readEvents(server.stderr, "server", () => {});
  const serverLines = textLines(server.stdout);
  const first = await Promise.race([
    serverLines.next(),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000)),
  ]);
  const address = first?.value?.match(/^listening on \w+:\/\/(.*:(\d+))$/);
  if (!address) {
    await stop(server, "SIGKILL");
    await outputEnds(serverEvents, `${protocol}/server.ts`);
    order.finish();
    console.error(`error: ${protocol}/server.ts did not start`);
    return 1;
  }
  (async () => {
    for await (const _ of serverLines); // nothing more is expected; read so it never blocks
  })();

  // The client: fed LINEs one by one, or the demo's own stdin, or the terminal itself.
  const client = run(
    `${protocol}/client.ts`,
    ["--port", address[2]],
    interactive ? "inherit" : "piped",
  );
  note(`${protocol}/client.ts: pid ${client.pid}`);
  let replies = 0;
  let wake = () => {};
  const clientEvents = readEvents(client.stderr, "client", (event) => {
    if (event.call === "input") prompting = false; // the terminal echoed the line and its Enter
    const newlines = event.bytes?.filter((byte) => byte === 10).length ?? 0;
    // A reply is in: UDP, its recvfrom (or the client gave up on it; piped, the client prints
    // once its input ends); TCP, each "\n" it prints.
    if (event.call === "recvfrom" || (event.call === "print" && protocol === "tcp")) {
      replies += protocol === "udp" ? 1 : newlines;
    }
    wake();
  });
  const clientOutput = (async () => {
    for await (const text of client.stdout.pipeThrough(new TextDecoderStream())) {
      // Replies are drawn as `print`; at a terminal, only the prompt is shown as it is.
      if (!interactive) continue;
      if (text.endsWith("->")) write("->"), prompting = true;
      else if (prompting && text.endsWith("\n")) write("\n"), prompting = false;
    }
  })();

  // Ctrl-C (the terminal signals us and the client; the server has a process group of its own),
  // SIGTERM, a closed terminal: the client first, then the server.
  let exited = false;
  const clientStatus = client.status.finally(() => (exited = true, wake()));
  const stopOn = (signal: Deno.Signal) => () => {
    setTimeout(() => exited || kill(client, signal === "SIGHUP" ? "SIGTERM" : signal), 200);
    setTimeout(() => (kill(client, "SIGKILL"), kill(server, "SIGKILL")), STOP_LIMIT_MS * 2);
  };
  const signals = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((signal) => {
    const listener = stopOn(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });

  if (lines.length > 0) {
    const writer = client.stdin.getWriter();
    try {
      for (const [i, line] of lines.entries()) {
        await writer.write(encoder.encode(line + "\n"));
        while (replies <= i && !exited) await new Promise<void>((resolve) => wake = resolve);
      }
      await writer.close(); // the end of input: Ctrl-D
    } catch {
      // the client is gone; its status says why
    }
  } else if (!interactive) Deno.stdin.readable.pipeTo(client.stdin).catch(() => {});

  const { code } = await clientStatus;
  await outputEnds(Promise.all([clientEvents, clientOutput]), `${protocol}/client.ts`);
  if (prompting) write("\r\x1b[K"), prompting = false; // the client's "->" (and a "^C") went with it
  await stop(server, "SIGTERM");
  await outputEnds(serverEvents, `${protocol}/server.ts on port ${address[2]}`);
  order.finish();
  for (const [signal, listener] of signals) Deno.removeSignalListener(signal, listener);
  if (values.mermaid) write(toMermaid(steps, layout, address[1]));
  await out;
  return code;

  /** Reads one child's `--trace-json` lines into the order; `seen` looks at each first. */
  async function readEvents(stream: ReadableStream<Uint8Array>, side: Side, seen: Seen) {
    for await (const line of textLines(stream)) {
      const event = parseEvent(line, side);
      seen(event);
      order.push(event);
    }
    order.ended(side);
  }
}

type Seen = (event: DemoEvent) => void;

/** The demo's flags and its positionals, checked token by token as the scripts' are. */
function parse(args: string[]) {
  const options = {
    drop: { type: "string" },
    duplicate: { type: "string" },
    mermaid: { type: "boolean" },
    verbose: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  const strict = false; // its messages name parseArgs' internals: ours are made from the tokens
  const parsed = parseArgs({ args, options, allowPositionals: true, strict, tokens: true });
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    const flag = `--${token.name}`;
    if (!Object.hasOwn(options, token.name)) throw new Error(`unknown option ${token.rawName}`);
    const { value, inlineValue } = token;
    if (options[token.name as keyof typeof options].type === "boolean") {
      if (value !== undefined) throw new Error(`${flag} takes no value`);
    } else if (value === undefined || (!inlineValue && value.startsWith("-"))) {
      throw new Error(`${flag} needs a value`);
    } else if (!/^(\d+\.?\d*|\.\d+)$/.test(value) || Number(value) > 1) {
      throw new Error(`${flag} must be a probability from 0 to 1, not "${value}"`);
    }
  }
  const values = parsed.values as {
    drop?: string;
    duplicate?: string;
    mermaid?: boolean;
    verbose?: boolean;
    help?: boolean;
  };
  return { values, positionals: parsed.positionals };
}

/** Sends `signal`, and SIGKILL if the child is still there after a bound; waits for its end. */
async function stop(child: Deno.ChildProcess, signal: Deno.Signal): Promise<void> {
  kill(child, signal);
  const timer = setTimeout(() => kill(child, "SIGKILL"), STOP_LIMIT_MS);
  await child.status;
  clearTimeout(timer);
}

/**
 * Waits for an exited child's output to end, as it does with the child, unless `deno` on PATH is
 * a wrapper that runs deno as a child of its own, such as npm's `bin.cjs` where the package's
 * install script did not run: then a signal stops the wrapper alone, and the script runs on.
 */
async function outputEnds(output: Promise<unknown>, script: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => timer = setTimeout(resolve, STOP_LIMIT_MS, "late"));
  if (await Promise.race([output, late]) === "late") {
    console.error(
      `error: ${script} may still be running: \`deno\` on PATH seems to be a wrapper that ` +
        "starts deno as its child (npm's bin.cjs); put the deno binary itself first on PATH",
    );
  }
  clearTimeout(timer);
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // it has exited already
  }
}

async function* textLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (pending + text).split("\n");
    pending = parts.pop()!;
    yield* parts;
  }
  if (pending) yield pending;
}

/** Colours as the scripts use them: at a terminal, unless `NO_COLOR` is set. */
function colourful(): boolean {
  return Deno.stdout.isTerminal() && !Deno.noColor;
}

function usage(message: string): number {
  console.error(`error: ${message} (see --help)`);
  return 2;
}

if (import.meta.main) Deno.exit(await runDemo(Deno.args));

/** Writes every byte to stdout: one `write` may take only part of them. */
async function writeAll(bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await Deno.stdout.write(bytes.subarray(written));
  }
}
