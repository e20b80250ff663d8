/**
 * Starting the real scripts as subprocesses, reading the port a server bound, feeding a client
 * its stdin, the test's own sockets and fake servers, and small assertions. Every server or
 * socket started here is stopped at the end of the caller's `await using` (or `using`) block,
 * or ends on its own within a time limit.
 *
 * @module
 */

/**
 * The permissions that the tests which start the scripts and open sockets need: `deno task test`
 * grants them. A bare `deno test` grants none and runs the rest (tests/permissions_test.ts says so).
 */
export const MISSING_PERMISSIONS = (["net", "run", "read", "write"] as const)
  .filter((name) => Deno.permissions.querySync({ name }).state !== "granted");

/** `Deno.test` for a test that needs those permissions: ignored without them. */
export function test(name: string, fn: () => void | Promise<void>, ignore = false): void {
  Deno.test({ name, ignore: ignore || MISSING_PERMISSIONS.length > 0, fn });
}

/** The project root: the scripts run from here, as the README tells a reader to. */
export const ROOT = new URL("..", import.meta.url).pathname;

/** One new array holding `parts` one after another. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  parts.reduce((offset, part) => (joined.set(part, offset), offset + part.length), 0);
  return joined;
}

/** Writes every byte to a connection or a pipe: one `write` may take only part of them. */
export async function writeAll(
  writer: { write(bytes: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await writer.write(bytes.subarray(written));
  }
}

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
export const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** How long a script may take to start and print its first line (cold Deno, busy CI). */
export const START_LIMIT_MS = 20_000;
/** How long a whole run (a client, the demo, a terminal session) may take before it is killed. */
export const RUN_LIMIT_MS = 30_000;
/**
 * How long a test waits for one thing that should come at once (a reply, a log line, an exit)
 * before it fails; `waitForLog` and `waitUntil` wait this long unless told otherwise.
 */
export const WAIT_LIMIT_MS = 10_000;

/** A server script a test started; `await using` stops it at the end of the block. */
export interface RunningServer extends AsyncDisposable {
  /** The port the server announced in its `listening on ...` line. */
  port: number;
  /** The whole announcement, e.g. `listening on udp://127.0.0.1:40123`. */
  announcement: string;
  child: Deno.ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the first stderr line that matches, or rejects after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (SIGTERM by default) unless it has exited, and waits for it to end. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  /** Waits for the server to exit on its own. */
  exited(): Promise<Deno.CommandStatus>;
}

/** The `deno run` command line for a script, as a reader types it. */
export function denoRun(script: string, args: string[], flags = ["--allow-net"]): string[] {
  return ["run", ...flags, script, ...args];
}

/**
 * Starts a server script on an ephemeral port (`--port 0` unless `args` names one) and waits
 * for its `listening on ...` line: the readiness signal, no sleeping.
 */
export async function startServer(
  script: string,
  args: string[] = [],
  flags = ["--allow-net"],
): Promise<RunningServer> {
  const portArgs = args.includes("--port") ? [] : ["--port", "0"];
  const child = new Deno.Command(Deno.execPath(), {
    args: denoRun(script, [...portArgs, ...args], flags),
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = collectOutput(child.stderr);
  const stdoutLines = readLines(child.stdout);
  const first = await firstWithin(stdoutLines.next(), START_LIMIT_MS);
  const drained = drain(stdoutLines);
  const status = child.status;
  const server: RunningServer = {
    port: 0,
    announcement: "",
    child,
    stderr: () => stderr.text(),
    waitForLog: (pattern, timeoutMs = WAIT_LIMIT_MS) => stderr.waitFor(pattern, timeoutMs),
    async stop(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // it had already exited
      }
      return await server.exited();
    },
    async exited() {
      const result = await status;
      await Promise.all([drained, stderr.done]);
      return result;
    },
    async [Symbol.asyncDispose]() {
      await server.stop();
    },
  };
  const match = first?.match(/^listening on (?:udp|tcp):\/\/.*:(\d+)$/);
  if (!match) {
    await server.stop("SIGKILL");
    throw new Error(
      `${script} did not announce a port; stdout: ${first}; stderr: ${stderr.text()}`,
    );
  }
  server.announcement = first!;
  server.port = Number(match[1]);
  return server;
}

export interface RunResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/** Starts a script with stdin, stdout and stderr piped; the caller ends it. */
export function spawnScript(script: string, args: string[], flags = ["--allow-net"]) {
  const stdio = { stdin: "piped", stdout: "piped", stderr: "piped" } as const;
  const command = {
    args: denoRun(script, args, flags),
    cwd: ROOT,
    ...stdio,
    env: { NO_COLOR: "1" },
  };
  return new Deno.Command(Deno.execPath(), command).spawn();
}

/** Runs a script to the end with `stdin` piped in; kills it if it outlives `limitMs`. */
export async function runScript(
  script: string,
  args: string[],
  stdin: string | Uint8Array = "",
  { flags = ["--allow-net"], limitMs = RUN_LIMIT_MS } = {},
): Promise<RunResult> {
  const child = spawnScript(script, args, flags);
  const killer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  const writing = (async () => {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(typeof stdin === "string" ? encode(stdin) : stdin);
      await writer.close();
    } catch {
      // the script exited without reading all of its input; its status tells why
    }
  })();
  const output = await child.output();
  clearTimeout(killer);
  await writing;
  return { code: output.code, stdout: output.stdout, stderr: decode(output.stderr) };
}

/**
 * Runs `deno task demo ARGS` to its end, with the task's permission (`--allow-run` for this
 * deno, by its full path: deno may not be on PATH) and stdin from /dev/null; kills it if it
 * outlives `limitMs`.
 */
export async function runDemo(
  args: string[],
  limitMs = RUN_LIMIT_MS,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", `--allow-run=${Deno.execPath()}`, "demo/main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(killer);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/**
 * One step of a terminal session: wait for text to show, type text, pause for the test, or set
 * the terminal's width (`columns` as the first step: from the start; `resize`: now).
 */
export type TerminalStep =
  | { expect: string }
  | { type: string }
  | { pause: true }
  | { columns: number }
  | { resize: number };

/** The steps that type each of `lines` at a prompt `->` of its own, as a user does. */
export function atPrompts(lines: string[]): TerminalStep[] {
  return lines.flatMap((line) => [{ expect: "->" }, { type: `${line}\n` }]);
}

/**
 * Runs `command` (a program and its arguments) on a pseudo-terminal made by Python's pty module
 * (tests/fixtures/terminal.py), doing `steps`; `whilePaused` runs at a `{ pause: true }` step.
 * Resolves with the program's exit status, what the terminal showed (`\r\n` read as `\n`) and
 * what it had shown when each `type` step typed.
 */
export async function onTerminal(
  command: string[],
  steps: TerminalStep[],
  { env = { NO_COLOR: "1" }, whilePaused }: {
    /** Set for the program, on top of the test's environment without NO_COLOR. */
    env?: Record<string, string>;
    whilePaused?: () => Promise<void>;
  } = {},
): Promise<{ code: number; screen: string; shownBeforeTyping: string[] }> {
  const driver = `${ROOT}tests/fixtures/terminal.py`;
  const python = new Deno.Command("python3", {
    args: [driver, JSON.stringify(steps), JSON.stringify(env), ...command],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const typed = new Response(python.stderr).text();
  const killer = setTimeout(() => python.kill("SIGKILL"), RUN_LIMIT_MS);
  const output = collectOutput(python.stdout);
  const stdin = python.stdin.getWriter();
  try {
    if (whilePaused) {
      await output.waitFor(/^PAUSED$/, RUN_LIMIT_MS);
      await whilePaused();
      await stdin.write(encode("\n"));
    }
  } finally {
    await stdin.close().catch(() => {});
    await python.status;
    await output.done;
    clearTimeout(killer);
  }
  const { code, signal } = await python.status;
  if (signal === "SIGKILL") {
    throw new Error(`the terminal session hung for ${RUN_LIMIT_MS} ms:\n${output.text()}`);
  }
  const screen = output.text().replace(whilePaused ? "PAUSED\n" : "", "");
  const shown = (text: string) => text.replaceAll("\r\n", "\n");
  const offsets: number[] = JSON.parse(await typed || "[]");
  const bytes = encode(screen); // the offsets count bytes of what the terminal showed
  return {
    code,
    screen: shown(screen),
    shownBeforeTyping: offsets.map((offset) => shown(decode(bytes.subarray(0, offset)))),
  };
}

/** A UDP socket of the test's own on 127.0.0.1; `using` closes it at the end of the block. */
export interface UdpSocket extends Deno.DatagramConn, Disposable {
  /** The port it is bound to. */
  port: number;
  /** Sends `bytes` to 127.0.0.1:`port`. */
  sendTo(bytes: Uint8Array, port: number): Promise<number>;
  /**
   * Sends `bytes` to 127.0.0.1:`port` and resolves with the next datagram that comes (the reply),
   * or rejects with `what` after `timeoutMs`.
   */
  roundTrip(
    bytes: Uint8Array,
    port: number,
    timeoutMs?: number,
    what?: string,
  ): Promise<Uint8Array>;
}

/** Binds a UDP socket of the test's own: a client of the server under test, or a fake server. */
export function udpSocket(): UdpSocket {
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const sendTo = (bytes: Uint8Array, port: number) =>
    socket.send(bytes, { hostname: "127.0.0.1", port, transport: "udp" });
  return Object.assign(socket, {
    port: (socket.addr as Deno.NetAddr).port,
    sendTo,
    async roundTrip(bytes: Uint8Array, port: number, timeoutMs = WAIT_LIMIT_MS, what = "no reply") {
      await sendTo(bytes, port);
      const [reply] = await withinOrFail(socket.receive(), timeoutMs, what);
      return reply;
    },
    [Symbol.dispose]() {
      try {
        socket.close();
      } catch {
        // closed already
      }
    },
  });
}

/** A TCP server of the test's own, for one client; `await using` closes it. */
export interface FakeTcpServer extends AsyncDisposable {
  port: number;
  /** Resolves when the first bytes have come from the client. */
  heard: Promise<void>;
}

/**
 * Listens on 127.0.0.1 for one client, and calls `answer` with the bytes of each read; it reads
 * on while `answer` resolves to true (by default it reads and never answers). At the client's
 * end of stream it stays connected, as some servers do, until it is closed.
 */
export function fakeTcpServer(
  answer: (data: Uint8Array, conn: Deno.Conn) => Promise<boolean> = () => Promise.resolve(true),
): FakeTcpServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const heard = Promise.withResolvers<void>();
  const closing = Promise.withResolvers<void>();
  const served = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (let count; (count = await conn.read(buffer)) !== null;) {
        heard.resolve();
        if (!await answer(buffer.slice(0, count), conn)) return;
      }
      await closing.promise; // the client's end of stream
    } catch {
      // the client went away first
    } finally {
      conn.close();
    }
  })().catch(() => {}); // closed before a client came
  return {
    port: listener.addr.port,
    heard: heard.promise,
    async [Symbol.asyncDispose]() {
      closing.resolve();
      listener.close();
      await served;
    },
  };
}

/**
 * Runs tests/fixtures/reset.py with `args`: connections that end with a reset (RST) instead of
 * a normal close; fails if it does not end within `timeoutMs`.
 */
export async function pythonResets(args: string[], timeoutMs = WAIT_LIMIT_MS): Promise<void> {
  const python = new Deno.Command("python3", {
    args: [`${ROOT}tests/fixtures/reset.py`, ...args],
    stderr: "piped",
  });
  const { code, stderr } = await withinOrFail(python.output(), timeoutMs, "reset.py hung");
  if (code !== 0) throw new Error(`reset.py ${args[0]} failed: ${decode(stderr)}`);
}

/** A port nothing listens on (TCP and UDP): bound, read and released. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** `promise`'s value, or undefined if it has not settled after `ms` milliseconds. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves after `ms`. Only for pacing (the gaps a client leaves between messages); to wait
 * until something has happened, use `waitForLog`, `waitUntil` or `withinOrFail`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Checks `condition` every `intervalMs` until it holds, for what no event announces (a port
 * refusing connections, a line count). Throws, naming `what`, when `timeoutMs` has passed.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = WAIT_LIMIT_MS, intervalMs = 20 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(Math.min(intervalMs, left));
  }
}

/** Resolves `promise`, or rejects with `message` after `ms`. */
export async function withinOrFail<T>(
  promise: Promise<T>,
  ms: number,
  message: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads from `conn` until `length` bytes have arrived or the peer closes; `onRead` is called
 * after each read that brought bytes.
 */
export async function readBytes(
  conn: Deno.Conn,
  length: number,
  onRead?: () => void,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const buffer = new Uint8Array(64 * 1024);
  while (size < length) {
    const count = await conn.read(buffer);
    if (count === null) break;
    parts.push(buffer.slice(0, count));
    size += count;
    onRead?.();
  }
  return concat(parts);
}

/** Reads from `conn` until the peer closes; `onRead` as for `readBytes`. */
export function readToEnd(conn: Deno.Conn, onRead?: () => void): Promise<Uint8Array> {
  return readBytes(conn, Infinity, onRead);
}

async function firstWithin(
  next: Promise<IteratorResult<string>>,
  ms: number,
): Promise<string | undefined> {
  try {
    const result = await withinOrFail(next, ms, "no output");
    return result.done ? undefined : result.value;
  } catch {
    return undefined;
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let end;
    while ((end = pending.indexOf("\n")) !== -1) {
      yield pending.slice(0, end);
      pending = pending.slice(end + 1);
    }
  }
  if (pending) yield pending;
}

async function drain(lines: AsyncGenerator<string>): Promise<void> {
  for await (const _ of lines) {
    // a server prints only its announcement on stdout; anything else is read and dropped
  }
}

/** What a process wrote on one of its pipes, read as it comes. */
export interface CollectedOutput {
  /** Everything so far. */
  text(): string;
  /** The first whole line that matches `pattern`; rejects after `timeoutMs` or at the end. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the pipe has closed. */
  done: Promise<void>;
}

/** Reads `stream` to its end in the background, so that a test can wait for a line of it. */
export function collectOutput(stream: ReadableStream<Uint8Array>): CollectedOutput {
  let text = "";
  const waiters = new Set<() => void>();
  let ended = false;
  const done = (async () => {
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        for (const wake of waiters) wake();
      }
    } finally {
      ended = true;
      for (const wake of waiters) wake();
    }
  })();
  return {
    text: () => text,
    done,
    async waitFor(pattern, timeoutMs = WAIT_LIMIT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        // Whole lines only: a line still being written could match in part.
        const whole = ended ? text : text.slice(0, text.lastIndexOf("\n") + 1);
        const line = whole.split("\n").find((line) => pattern.test(line));
        if (line !== undefined) return line;
        const left = deadline - Date.now();
        if (ended || left <= 0) {
          const why = ended ? "before the pipe closed" : `within ${timeoutMs} ms`;
          throw new Error(`no line matching ${pattern} ${why}; the output was:\n${text}`);
        }
        // Wake on the next chunk, or at the deadline.
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    },
  };
}

/** Connects to a server under test on 127.0.0.1. */
export function connect(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** True when `name` is a command on PATH (a tool a test needs, such as nc or socat). */
export function hasCommand(name: string): boolean {
  if (MISSING_PERMISSIONS.length > 0) return true; // not asked: the test is skipped anyway
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).outputSync().success;
  } catch {
    return false;
  }
}

/** A seeded random source (`random(limit)` gives 0 to limit-1), so a failure can be replayed. */
export function randomSource(seed: number): (limit: number) => number {
  return (limit) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % limit;
}

/** Whether this machine has ::1 (true when the tests that need it are skipped anyway). */
export const HAS_IPV6_LOOPBACK = (() => {
  if (MISSING_PERMISSIONS.length > 0) return true; // not asked: the test is skipped anyway
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
})();
