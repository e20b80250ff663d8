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
import { once } from "node:events";
import {
  bytesPerReceive,
  listFlags,
  parseCommandLine,
  probability,
  toggle,
  UsageError,
} from "../shared/flags.ts";
import { toLine } from "../shared/trace.ts";
import { type DemoEvent, type Order, orderByCause, parseEvent, type Side } from "./diagram.ts";
import { createScreen } from "./screen.ts";

const FLAGS = {
  recvSize: bytesPerReceive("both scripts: the most bytes one receive takes (recv(1024))"),
  atOnce: toggle("send the LINEs at once, not each after the reply to the one before"),
  drop: probability("udp: the server drops each reply with probability P (a lost datagram)"),
  duplicate: probability("udp: the server sends each reply twice with probability P"),
  mermaid: toggle("print the exchange as a Mermaid sequenceDiagram (no ports, no times)"),
  verbose: toggle("also print the children's pids and each event as --trace does, on stderr"),
  help: toggle("show this help"),
};

const HELP = `Draws a UDP or TCP exchange of the real scripts as a sequence diagram.

usage: deno task demo udp|tcp [options] [LINE...]

Starts udp/server.ts and udp/client.ts (or the tcp/ pair) on a free port of 127.0.0.1 and draws
each socket call in its lane (socket, bind, sendto, recvfrom; listen, accept, connect, send,
recv, shutdown, close) and an arrow for every datagram or chunk of bytes on the wire. LINEs are
typed one at a time, each after the reply to the one before (--at-once: all at once, so TCP's
reads take several, or parts); without them, type lines at the client's -> prompt (Ctrl-D
ends), or pipe them in. The exit status is the client's.

${listFlags(FLAGS).join("\n")}

Permissions: --allow-run=deno only, to start the two scripts; they run with
--allow-net=127.0.0.1, the loopback address and nothing else.`;

const ROOT = new URL("..", import.meta.url).pathname;
const encoder = new TextEncoder();
/** How long a child may take to start, and to stop once told to. */
const [START_LIMIT_MS, STOP_LIMIT_MS] = [20_000, 3_000];

type Options = Exclude<ReturnType<typeof readOptions>, number>;

/** Runs the demo for command-line `args`; resolves with the exit status (the client's). */
export async function runDemo(args: string[]): Promise<number> {
  const options = readOptions(args);
  if (typeof options === "number") return options;
  const deno = denoToRun();
  if (!deno) return 1;
  const { protocol, values, interactive } = options;
  const screen = createScreen(protocol, { mermaid: values.mermaid });
  let dropped = 0; // replies the server dropped, as --drop asked
  const order = orderByCause((step) => {
    if (values.verbose) console.error(toLine(step.event, step.event.script));
    if (step.event.call === "drop") dropped++;
    screen.draw(step);
  }, screen.live);
  const note = (text: string) => values.verbose && console.error(`[demo] ${text}`);

  const server = await startServer(deno, options, order, note);
  if (!server.port) {
    await stop(server, "SIGKILL");
    order.finish();
    console.error(`error: ${protocol}/server.ts did not start`);
    return 1;
  }
  const clientArgs = ["--port", server.port, ...options.clientArgs];
  const client = spawn(deno, `${protocol}/client.ts`, clientArgs, interactive);
  note(`${protocol}/client.ts: pid ${client.process.pid}`);
  const signals = stopOnSignals(client, server);
  const shown = interactive ? screen.showPrompts(client.process.stdout) : drain(client);
  // A line the client read was typed with its Enter: the prompt's line ended, before any row.
  const intake: Order = {
    ...order,
    push(event) {
      if (event.call === "input") screen.typed();
      order.push(event);
    },
  };
  const fed = feed(client, options, intake);

  const { code } = await client.process.status;
  await outputEnds(Promise.all([fed, shown]), client.script);
  screen.clearPrompt(); // the client's "->" (and a "^C") went with it
  await connectionsClosed(server);
  await stop(server, "SIGTERM");
  order.finish();
  signals.remove();
  await screen.end(`127.0.0.1:${server.port}`);
  if (dropped > 0) {
    const replies = `${dropped} repl${dropped === 1 ? "y" : "ies"}`;
    console.error(`demo: the server dropped ${replies}, as --drop ${values.drop} asked`);
  }
  return code;
}

/** The flags and positionals, or the exit status when there is nothing to run (help, a typo). */
function readOptions(args: string[]) {
  try {
    const { values, positionals } = parseCommandLine(FLAGS, args, true);
    if (values.help) return console.log(HELP), 0;
    const [protocol, ...lines] = positionals;
    if (protocol !== "udp" && protocol !== "tcp") throw new UsageError("say udp or tcp");
    for (const flag of ["drop", "duplicate"] as const) {
      if (values[flag] && protocol !== "udp") throw new UsageError(`--${flag} is for udp`);
    }
    // Both scripts receive as asked; a client whose replies the server drops never gives up.
    const recvSize = args.some((arg) => /^--recv-size\b/.test(arg))
      ? ["--recv-size", `${values.recvSize}`]
      : [];
    const giveUp = values.drop ? ["--give-up", "1000000"] : [];
    const interactive = lines.length === 0 && Deno.stdin.isTerminal(); // the client reads it
    const clientArgs = [...recvSize, ...giveUp];
    return { protocol, lines, values, interactive, recvSize, clientArgs } as const;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message} (see --help)`);
    return 2;
  }
}

/** `deno` itself: this process's executable when allowed to run it, else "deno" from PATH. */
function denoToRun(): string | undefined {
  const allowed = (command: string) =>
    Deno.permissions.querySync({ name: "run", command }).state === "granted";
  if (allowed(Deno.execPath())) return Deno.execPath();
  if (allowed("deno")) return "deno";
  console.error(
    "error: the demo starts deno itself: run it as deno task demo, or deno run " +
      "--allow-run=deno demo/main.ts",
  );
  return undefined;
}

/** A running script and its `--trace-json` events, read by one reader at a time. */
type Child = {
  script: string;
  side: Side;
  process: Deno.ChildProcess;
  events: AsyncGenerator<DemoEvent>;
  /** For the server: the port it bound, from its bind event. */
  port?: string;
  /** Its events after the bind event, passed on to the order. */
  forwarded?: Promise<unknown>;
  /** TCP connections it has accepted and not closed yet, as its events say. */
  open: number;
  /** Where `forward` says that an event came ("event"). */
  seen: EventTarget;
};

/**
 * Starts `script` with `--trace-json`. The server runs in a process group of its own (detached),
 * so that Ctrl-C at the terminal reaches the client alone: the server is stopped once the
 * client has exited, and a client never sees its server go first.
 */
function spawn(deno: string, script: string, args: string[], inheritStdin = false): Child {
  const side: Side = script.endsWith("server.ts") ? "server" : "client";
  const process = new Deno.Command(deno, {
    args: ["run", "--allow-net=127.0.0.1", script, "--trace-json", ...args],
    cwd: ROOT,
    stdin: inheritStdin ? "inherit" : side === "server" ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    detached: side === "server",
  }).spawn();
  const events = (async function* () {
    for await (const line of textLines(process.stderr)) yield parseEvent(line, side);
  })();
  return { script, side, process, events, open: 0, seen: new EventTarget() };
}

/** The server on port 0, and the port its bind event names (none if it did not start). */
async function startServer(deno: string, options: Options, order: Order, note: Note) {
  const args = ["--port", "0", ...options.recvSize];
  if (options.values.drop) args.push("--drop", `${options.values.drop}`);
  if (options.values.duplicate) args.push("--duplicate", `${options.values.duplicate}`);
  const server = spawn(deno, `${options.protocol}/server.ts`, args);
  note(`${server.script}: pid ${server.process.pid}`);
  const notBound = setTimeout(() => kill(server.process, "SIGKILL"), START_LIMIT_MS);
  const bound = await forward(server, order, (event) => /bind/.test(event.call));
  clearTimeout(notBound);
  server.port = bound?.local?.match(/:(\d+)$/)?.[1];
  server.forwarded = forward(server, order);
  return server;
}
type Note = (text: string) => void;

/**
 * Passes `child`'s events on to the order until one is `wanted` (returned) or they end
 * (undefined): whoever waits on a child's events is the one who reads them.
 */
async function forward(
  child: Child,
  order: Order,
  wanted: (event: DemoEvent) => boolean = () => false,
): Promise<DemoEvent | undefined> {
  for (let next; !(next = await child.events.next()).done;) {
    const { call, conn } = next.value;
    child.open += call === "accept" ? 1 : call === "close" && conn ? -1 : 0;
    order.push(next.value);
    child.seen.dispatchEvent(new Event("event"));
    if (wanted(next.value)) return next.value;
  }
  order.ended(child.side);
  return undefined;
}

/**
 * Gives the client its input: each LINE once the one before it is answered (UDP: its
 * `recvfrom`, or one that gave up; TCP: the `print` of its `\n`), then the end of input; or
 * the demo's own piped stdin. At a terminal the client reads the terminal itself. Meanwhile,
 * and then to their end, the client's events go on to the order.
 */
async function feed(client: Child, options: Options, order: Order): Promise<void> {
  if (options.lines.length > 0) await typeLines(client, client.process.stdin, options, order);
  // Piped, the pipe ends with the client; it is not waited for, as our stdin may stay open.
  else if (!options.interactive) Deno.stdin.readable.pipeTo(client.process.stdin).catch(() => {});
  await forward(client, order);
}

async function typeLines(
  client: Child,
  stdin: WritableStream<Uint8Array>,
  { lines, protocol, values }: Options,
  order: Order,
): Promise<void> {
  const replies = (event: DemoEvent) =>
    protocol === "udp"
      ? Number(event.call === "recvfrom")
      : event.call === "print"
      ? event.bytes!.filter((byte) => byte === 10).length
      : 0;
  const writer = stdin.getWriter();
  try {
    // At once: in one write, then the end of input once every line is answered, as one by one.
    const typed = values.atOnce ? [lines.join("\n")] : lines;
    let answered = 0;
    for (const [i, line] of typed.entries()) {
      await writer.write(encoder.encode(line + "\n"));
      while (answered < (values.atOnce ? lines.length : i + 1)) {
        const reply = await forward(client, order, (event) => replies(event) > 0);
        if (!reply) return; // the client has exited: its status says why
        answered += replies(reply);
      }
    }
    await writer.close(); // the end of input: Ctrl-D
  } catch {
    // the client is gone; its status says why
  }
}

/** Reads a child's stdout (nothing to show: replies are drawn as `print`) so it never blocks. */
async function drain(child: Child): Promise<void> {
  for await (const _ of child.process.stdout);
}

/**
 * Ctrl-C (the terminal signals us and the client; the server has a process group of its own),
 * SIGTERM, a closed terminal: the client first, then the server; SIGKILL if they linger.
 */
function stopOnSignals(client: Child, server: Child): { remove(): void } {
  const timers: ReturnType<typeof setTimeout>[] = [];
  let exited = false;
  client.process.status.then(() => exited = true);
  const listeners = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((signal) => {
    const listener = () => {
      const forward = signal === "SIGHUP" ? "SIGTERM" : signal;
      timers.push(setTimeout(() => exited || kill(client.process, forward), 200));
      timers.push(setTimeout(() => {
        kill(client.process, "SIGKILL");
        kill(server.process, "SIGKILL");
      }, STOP_LIMIT_MS * 2));
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return {
    remove() {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
      timers.forEach(clearTimeout);
    },
  };
}

/**
 * Waits, a second at most, until the server has closed the connections it accepted: it does once
 * it reads the client's FIN, which may come after the client has exited.
 */
async function connectionsClosed(server: Child): Promise<void> {
  const limit = AbortSignal.timeout(1_000);
  while (server.open > 0 && !limit.aborted) {
    await once(server.seen, "event", { signal: limit }).catch(() => {});
  }
}

/** Sends `signal`, and SIGKILL if the child is still there after a bound; waits for its end. */
async function stop(child: Child, signal: Deno.Signal): Promise<void> {
  kill(child.process, signal);
  const timer = setTimeout(() => kill(child.process, "SIGKILL"), STOP_LIMIT_MS);
  await child.process.status;
  clearTimeout(timer);
  const where = child.port ? `${child.script} on port ${child.port}` : child.script;
  await outputEnds(child.forwarded ?? forward(child, noOrder), where);
}
const noOrder: Order = { push() {}, ended() {}, finish() {} };

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
        `starts deno as its child (npm's bin.cjs); put the binary itself first on PATH: ` +
        `export PATH="${Deno.execPath().replace(/\/[^/]*$/, "")}:$PATH"`,
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

if (import.meta.main) Deno.exit(await runDemo(Deno.args));
