/**
 * Starting the real scripts as subprocesses, reading the port a server bound, feeding a client
 * its stdin, and small assertions. Every process started here is stopped by the caller's
 * `stop()` or ends on its own within a time limit.
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
const START_LIMIT_MS = 20_000;
/** How long a client run may take before it is killed and the test fails. */
const RUN_LIMIT_MS = 30_000;
/** How long `waitForLog`, `waitForLogs` and `waitUntil` wait unless told otherwise. */
const WAIT_LIMIT_MS = 10_000;

export interface RunningServer {
  /** The port the server announced in its `listening on ...` line. */
  port: number;
  /** The whole announcement, e.g. `listening on udp://127.0.0.1:40123`. */
  announcement: string;
  child: Deno.ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the first stderr line that matches, or rejects after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the first `count` stderr lines that match, or rejects after `timeoutMs`. */
  waitForLogs(pattern: RegExp, count: number, timeoutMs?: number): Promise<string[]>;
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
  const stderr = collectText(child.stderr);
  const stdoutLines = readLines(child.stdout);
  const first = await firstWithin(stdoutLines.next(), START_LIMIT_MS);
  const drained = drain(stdoutLines);
  const status = child.status;
  const server: RunningServer = {
    port: 0,
    announcement: "",
    child,
    stderr: () => stderr.text(),
    waitForLog: async (pattern, timeoutMs = WAIT_LIMIT_MS) =>
      (await stderr.waitFor(pattern, 1, timeoutMs))[0],
    waitForLogs: (pattern, count, timeoutMs = WAIT_LIMIT_MS) =>
      stderr.waitFor(pattern, count, timeoutMs),
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

/**
 * The start of a Python program that runs argv[1:] on a pseudo-terminal (`pid`, `fd`) and
 * `read_until(marker, limit)` adds what the terminal shows to `out` until `marker` appears.
 */
export const PTY_DRIVER = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def read_until(marker, limit=20):
    global out
    end = time.time() + limit
    while marker not in out and time.time() < end:
        try:
            out += os.read(fd, 4096)
        except OSError:
            break
`;

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

interface CollectedText {
  text(): string;
  /** The first `count` whole lines that match `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, count: number, timeoutMs: number): Promise<string[]>;
  done: Promise<void>;
}

function collectText(stream: ReadableStream<Uint8Array>): CollectedText {
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
    async waitFor(pattern, count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        // Whole lines only: a line still being written could match in part.
        const whole = ended ? text : text.slice(0, text.lastIndexOf("\n") + 1);
        const lines = whole.split("\n").filter((line) => pattern.test(line));
        if (lines.length >= count) return lines.slice(0, count);
        const left = deadline - Date.now();
        if (ended || left <= 0) {
          const seen = `${lines.length} of ${count} stderr line(s) matching ${pattern}`;
          const why = ended ? "before the server exited" : `within ${timeoutMs} ms`;
          throw new Error(`only ${seen} ${why}; stderr was:\n${text}`);
        }
        // Wake on the next chunk of stderr, or at the deadline.
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
