/**
 * `deno task bench [--quick] [--rounds N] [--only TEXT]`: our servers against the bare Deno loop doing the
 * same work with the same codec (what our machinery costs), that loop with a bare a-z byte flip
 * for a codec on ASCII (the floor: what our codec costs), the same servers written for Node,
 * the blog post's Python servers and a minimal C epoll server (the machine's ceiling), on the
 * same workloads in the same run, driven by a compiled closed-loop load generator that checks
 * every reply byte. Each workload is measured in rounds that alternate the servers (deno, bare,
 * floor, node, python, c, then the other way round), so a slow minute of the machine, or what
 * one server leaves behind for the next (sockets in TIME_WAIT), falls on all of them alike.
 * Prints a table of median ops/s with its spread, MB/s, p50/p99 latency, peak RSS and its ratio
 * to the bare loop's, and each ops/s ratio against the bare loop, the floor, Node and C (taken
 * within a round), and writes it to bench/results.md. Then pipes short lines and mixed-length
 * lines through our clients and checks every output byte.
 *
 * Absolute numbers on shared machines are noise; the ratios, measured seconds apart on the
 * same machine, are the result, and only where they stand clear of their spread.
 *
 * @module
 */
import { upperCase } from "../shared/codec.ts";
import { freePortFor, type StartedProcess, startProcess } from "./processes.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BUILD = `${ROOT}bench/build`;
const MiB = 1024 * 1024;
const { quick, rounds: ROUNDS, only } = parseArgs(Deno.args);
const SECONDS = quick ? 0.2 : 4;
const WARMUP_SECONDS = quick ? 0.1 : 0.5;
/** Issue #10: short lines piped through tcp/client.ts at this speed or faster. */
const TARGET_MIB_PER_S = 50;
/** A piped client still running after this long is killed. */
const CLIENT_LIMIT_SECONDS = quick ? 30 : 120;

type Protocol = "tcp" | "udp";
type Implementation = "deno" | "bare" | "floor" | "node" | "python" | "c";

interface Workload {
  name: string;
  protocol: Protocol;
  /** TCP connections, or UDP datagrams in flight. */
  parallel: number;
  size: number;
  text: "ascii" | "korean";
}

const WORKLOADS: Workload[] = [
  { name: "TCP 1 conn, 100 B ping-pong", protocol: "tcp", parallel: 1, size: 100, text: "ascii" },
  { name: "TCP 50 conns, 1 KiB", protocol: "tcp", parallel: 50, size: 1024, text: "ascii" },
  { name: "TCP 1 conn, 64 KiB", protocol: "tcp", parallel: 1, size: 65536, text: "ascii" },
  { name: "TCP 1 conn, 1 KiB Korean", protocol: "tcp", parallel: 1, size: 1024, text: "korean" },
  { name: "UDP 1 in flight, 100 B", protocol: "udp", parallel: 1, size: 100, text: "ascii" },
  { name: "UDP 32 in flight, 100 B", protocol: "udp", parallel: 32, size: 100, text: "ascii" },
  {
    name: "UDP 32 in flight, 1 KiB Korean",
    protocol: "udp",
    parallel: 32,
    size: 1024,
    text: "korean",
  },
];

/** In the order each round runs them. */
const IMPLEMENTATIONS: Implementation[] = ["deno", "bare", "floor", "node", "python", "c"];
/** The columns of ratios: each server's ops/s over these, taken within the same round. */
const REFERENCES: [Implementation, string][] = [
  ["bare", "× bare"],
  ["floor", "× floor"],
  ["node", "× Node"],
  ["c", "× C"],
];

interface Result {
  ops_per_s: number;
  mb_per_s: number;
  p50_us: number;
  p99_us: number;
  errors: number;
  lost: number;
  rssMiB: number;
}

/** One server on one workload: a result, or why there is none, for every round. */
type Rounds = (Result | string)[];

function parseArgs(args: string[]): { quick: boolean; rounds: number; only?: string } {
  let quick = false;
  let rounds: number | undefined;
  let only: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--quick") {
      quick = true;
    } else if (args[i] === "--only") {
      only = args[++i]; // the workloads whose name holds this, printed only: results.md stays
    } else if (args[i] === "--rounds" || args[i].startsWith("--rounds=")) {
      const value = args[i].includes("=") ? args[i].slice("--rounds=".length) : args[++i];
      rounds = Number(value);
      if (!Number.isInteger(rounds) || rounds < 1) {
        throw new Error(`--rounds takes a whole number of at least 1, not ${value}`);
      }
    } else {
      throw new Error(
        `unknown argument ${args[i]}: bench/run.ts [--quick] [--rounds N] [--only TEXT]`,
      );
    }
  }
  return { quick, rounds: rounds ?? (quick ? 2 : 3), only };
}

async function build(): Promise<void> {
  await Deno.mkdir(BUILD, { recursive: true });
  for (const source of ["loadgen.c", "timed.c", "baselines/c_server.c"]) {
    const binary = source.replace(/^.*\//, "").replace(/\.c$/, "");
    const gcc = new Deno.Command("gcc", {
      args: ["-O2", "-o", `${BUILD}/${binary}`, `${ROOT}bench/${source}`],
    });
    const { code, stderr } = await gcc.output();
    if (code !== 0) throw new Error(`gcc ${source} failed:\n${new TextDecoder().decode(stderr)}`);
  }
}

/** Starts one implementation's server for `protocol` and returns it with its port. */
async function startServer(
  implementation: Implementation,
  protocol: Protocol,
): Promise<StartedProcess> {
  switch (implementation) {
    case "deno":
      return await startProcess(Deno.execPath(), [
        "run",
        "--allow-net",
        `${protocol}/server.ts`,
        "--port",
        "0",
        "--quiet",
      ], ROOT);
    case "bare":
    case "floor":
      return await startProcess(
        Deno.execPath(),
        [
          "run",
          "--allow-net",
          "bench/baselines/deno_bare.ts",
          protocol,
          "0",
          ...(implementation === "floor" ? ["floor"] : []),
        ],
        ROOT,
      );
    case "node":
      return await startProcess("node", [`bench/baselines/node_server.mjs`, protocol, "0"], ROOT);
    case "c":
      return await startProcess(`${BUILD}/c_server`, [protocol, "0"], ROOT);
    case "python": {
      // The post's programs announce nothing: pick a free port, then wait until it is taken. The
      // probe may hold the port just as the server binds it, which then exits: try another.
      for (let attempt = 1;; attempt++) {
        const port = freePortFor(protocol);
        const args = [`tests/fixtures/${protocol}_server.py`, "127.0.0.1", `${port}`];
        try {
          return await startProcess("python3", args, ROOT, { port, protocol });
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
    }
  }
}

/** What the post's Python servers can serve at all: one TCP connection, 1024-byte reads. */
function pythonCanServe(workload: Workload): boolean {
  if (workload.protocol === "udp") return workload.size <= 1024;
  return workload.parallel === 1;
}

async function measure(
  implementation: Implementation,
  workload: Workload,
): Promise<Result | string> {
  if (implementation === "python" && !pythonCanServe(workload)) return "can't serve";
  if (implementation === "floor" && workload.text !== "ascii") {
    return "not a correct server for Korean"; // it flips a-z only
  }
  const server = await startServer(implementation, workload.protocol);
  try {
    const args = [
      workload.protocol,
      "127.0.0.1",
      `${server.port}`,
      `${workload.parallel}`,
      `${workload.size}`,
      `${SECONDS}`,
      workload.text,
      `${WARMUP_SECONDS}`,
    ];
    const { code, stdout, stderr } = await new Deno.Command(`${BUILD}/loadgen`, { args }).output();
    if (code !== 0) {
      const why = new TextDecoder().decode(stderr).trim().split("\n").at(-1) ?? "";
      return /closed/.test(why) ? "crashed" : `failed: ${why}`;
    }
    const result = JSON.parse(new TextDecoder().decode(stdout)) as Result;
    result.rssMiB = await server.peakRssMiB();
    if (result.errors > 0) return `${result.errors} wrong replies`;
    return result;
  } finally {
    await server.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** How far the rounds stray from their median, the largest way either side: "±4%". */
function spread(values: number[]): string {
  if (values.length < 2) return "–";
  const middle = median(values);
  const deviation = Math.max(...values.map((value) => Math.abs(value - middle))) / middle;
  return `±${Math.round(deviation * 100)}%`;
}

/** The median of the per-round ratios, with their min–max when the rounds disagree. */
function ratio(values: Rounds, bases: Rounds): string {
  const ratios: number[] = [];
  values.forEach((value, round) => {
    const base = bases[round];
    if (typeof value === "object" && typeof base === "object" && base.ops_per_s > 0) {
      ratios.push(value.ops_per_s / base.ops_per_s);
    }
  });
  if (ratios.length === 0) return "–";
  const [low, middle, high] = [Math.min(...ratios), median(ratios), Math.max(...ratios)]
    .map((value) => value.toFixed(2));
  return low === high ? `${middle}×` : `${middle}× (${low}–${high})`;
}

/**
 * The highest peak RSS of the rounds. The bare loop's peak falls with the throughput its round
 * reached (72 against 58 MiB at 50 × 1 KiB when a busy machine halved it) while ours does not:
 * a ratio within a round would measure the machine. Its highest peak is its full-speed one.
 */
function peakRss(rounds: Rounds): number {
  return Math.max(0, ...rounds.map((round) => typeof round === "object" ? round.rssMiB : 0));
}

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);
}

/** One table row: the medians over the rounds that gave a result, and what the others gave. */
function row(
  workload: Workload,
  implementation: Implementation,
  all: Map<Implementation, Rounds>,
): string {
  const rounds = all.get(implementation)!;
  const results = rounds.filter((round): round is Result => typeof round === "object");
  const failures = rounds.filter((round): round is string => typeof round === "string");
  const name = `| ${workload.name} | ${implementation} |`;
  if (results.length === 0) {
    return `${name} ${[...new Set(failures)].join("; ")} |${" |".repeat(6 + REFERENCES.length)}`;
  }
  const bareRss = peakRss(all.get("bare")!);
  const of = (field: keyof Result) => median(results.map((result) => result[field]));
  const ops = results.map((result) => result.ops_per_s);
  const lost = results.reduce((sum, result) => sum + result.lost, 0);
  const notes = [
    ...(failures.length ? [`${failures.length} of ${rounds.length} rounds: ${failures[0]}`] : []),
    ...(lost > 0 ? [`${lost} lost`] : []),
  ];
  return `${name} ${formatNumber(median(ops))} | ${spread(ops)} | ${of("mb_per_s").toFixed(1)} | ` +
    `${Math.round(of("p50_us"))} | ${Math.round(of("p99_us"))} | ` +
    `${peakRss(rounds).toFixed(1)} | ` +
    `${bareRss > 0 ? `${(peakRss(rounds) / bareRss).toFixed(2)}×` : "–"} | ` +
    REFERENCES.map(([reference]) => ratio(rounds, all.get(reference)!)).join(" | ") + " |" +
    (notes.length ? ` (${notes.join(", ")})` : "");
}

async function main(): Promise<void> {
  await build();
  const started = new Date();
  const table: string[] = [
    "| workload | server | ops/s | spread | MB/s | p50 µs | p99 µs | peak RSS MiB | " +
    "RSS × bare | " + REFERENCES.map(([, title]) => title).join(" | ") + " |",
    "| --- | --- |" + " ---: |".repeat(7 + REFERENCES.length),
  ];
  for (const workload of WORKLOADS.filter(({ name }) => name.includes(only ?? ""))) {
    const all = new Map<Implementation, Rounds>(IMPLEMENTATIONS.map((each) => [each, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? IMPLEMENTATIONS : IMPLEMENTATIONS.toReversed();
      for (const implementation of order) {
        all.get(implementation)!.push(await measure(implementation, workload));
      }
    }
    const rows = IMPLEMENTATIONS.map((implementation) => row(workload, implementation, all));
    table.push(...rows);
    console.log(rows.join("\n"));
  }
  if (only !== undefined) return;
  const piped = await pipedClients();
  console.log(piped.join("\n"));
  const machine = `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, ` +
    `node ${await versionOf("node")}, ${await versionOf("python3")}`;
  // deno task bench hands its arguments to its last step, this one: `deno task bench --rounds 5`.
  const command = `deno task bench${Deno.args.length ? ` ${Deno.args.join(" ")}` : ""}`;
  const report = [
    "# Benchmark results",
    "",
    `Run ${started.toISOString()} with \`${command}\` on ${machine}: ${ROUNDS} rounds of ` +
    `${SECONDS} s per cell after ${WARMUP_SECONDS} s warm-up, each round running every server ` +
    `in turn, forwards and backwards (${IMPLEMENTATIONS.join(", ")}, then ` +
    `${IMPLEMENTATIONS.toReversed().slice(0, 2).join(", ")}, ...).`,
    "ops/s is the median of the rounds and spread the largest distance of a round from it;",
    "MB/s (request bytes) and the latencies are medians too, RSS is the server's highest peak",
    "(the kernel's VmHWM of the server process itself) and RSS × bare its ratio to bare's highest",
    "peak (bare peaks lower in a slower round). Each ops/s ratio is taken within a round,",
    "seconds apart on the same machine, and given as the median with its min–max over the",
    "rounds. **A difference inside the spread is not a result.** Absolute numbers on shared",
    "machines are noise.",
    ...(quick
      ? ["", "`--quick` cells are too short for any ratio here to mean much: it checks the run."]
      : []),
    "",
    "- deno: our `tcp/server.ts` and `udp/server.ts`.",
    "- bare: `bench/baselines/deno_bare.ts`, the shortest Deno loop doing the same work with the",
    "  same codec. Our servers' × bare is what their machinery (flags, logs, limits, shutdown)",
    "  costs.",
    "- floor: the same loop upper-casing with no codec at all, a byte loop flipping a-z where the",
    "  bytes landed: the floor of what upper-casing ASCII can cost, and not a correct server for",
    "  Korean (skipped there). bare's × floor is what our codec costs; ours is codec and machinery.",
    "- node: `bench/baselines/node_server.mjs`; python: the post's programs; c: the machine's",
    "  ceiling, `bench/baselines/c_server.c`.",
    "",
    ...table,
    "",
    "Piped clients against our own servers (`deno run --allow-net tcp/client.ts --port P < FILE`),",
    "timed from start to exit under `bench/timed.c`, every output byte checked against `upperCase`",
    "of each line. Short lines are issue #10's case: about 20 bytes each, ASCII and some Korean,",
    `to be piped at ${TARGET_MIB_PER_S} MiB/s or faster. Mixed lines have 1 to 20 Korean and English`,
    "words; `udp/client.ts` waits for each datagram's reply (32 in flight when piped), so it gets a",
    "smaller file. Empty input is the same client on an empty file: start-up and exit, which",
    "are inside every time. Peak RSS is the client's.",
    "",
    ...piped,
    "",
  ].join("\n");
  await Deno.writeTextFile(`${ROOT}bench/results.md`, report);
  // Aligned as `deno fmt` wants it, so the project's fmt check stays clean.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", "bench/results.md"], cwd: ROOT })
    .output();
  console.log(`\nwritten to bench/results.md`);
}

const encoder = new TextEncoder();
const NEWLINE = new Uint8Array([0x0a]);

/** A file of lines for a piped client, and the output the client must print for it. */
interface PipedInput {
  file: string;
  bytes: number;
  lines: number;
  expected: Uint8Array;
}

/**
 * Writes lines made by `line` until the file has `target` bytes (or a line more), always the
 * same lines for the same arguments. The expected output is each line upper-cased by the
 * project's codec followed by "\n", as the clients print their replies.
 */
async function writeInput(
  name: string,
  target: number,
  line: (random: (limit: number) => number) => string,
): Promise<PipedInput> {
  let seed = 1;
  const random = (limit: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % limit;
  };
  const input: Uint8Array[] = [];
  const expected: Uint8Array[] = [];
  for (let size = 0; size < target;) {
    const bytes = encoder.encode(line(random));
    input.push(bytes, NEWLINE);
    expected.push(upperCase(bytes), NEWLINE);
    size += bytes.length + 1;
  }
  const file = `${BUILD}/${name}.txt`;
  const bytes = concat(input);
  await Deno.writeFile(file, bytes);
  return { file, bytes: bytes.length, lines: input.length / 2, expected: concat(expected) };
}

/** Issue #10's input: about 20 bytes a line, mostly ASCII, some Korean. */
const SHORT_WORDS = ["hello", "world", "socket", "deno", "echo", "line", "client", "안녕", "소켓"];
const SHORT_WORD_BYTES = SHORT_WORDS.map((word) => encoder.encode(word).length);
function shortLine(random: (limit: number) => number): string {
  const length = 10 + random(17); // at least 10 to 26 bytes
  const words: string[] = [];
  for (let bytes = -1; bytes < length;) {
    const word = random(SHORT_WORDS.length);
    words.push(SHORT_WORDS[word]);
    bytes += 1 + SHORT_WORD_BYTES[word];
  }
  return words.join(" ");
}

/** Korean and English lines of 1 to 20 words. */
const MIXED_WORDS = ["hello", "world", "안녕하세요", "세계", "소켓", "통신", "socket", "deno"];
function mixedLine(random: (limit: number) => number): string {
  return Array.from({ length: 1 + random(20) }, () => MIXED_WORDS[random(MIXED_WORDS.length)])
    .join(" ");
}

interface Timed {
  code: number;
  signal: number;
  seconds: number;
  peak_rss_kib: number;
  /** The command's last line on stderr. */
  why: string;
}

/** Runs `command < input > output` under bench/timed.c: wall time, exit, peak RSS. */
async function timed(input: string, output: string, command: string[]): Promise<Timed> {
  const args = [input, output, `${CLIENT_LIMIT_SECONDS}`, ...command];
  const { stdout, stderr } = await new Deno.Command(`${BUILD}/timed`, { args, cwd: ROOT })
    .output();
  // Its last line, fit for a table cell (stderr is a pipe here: no colours).
  const why = (new TextDecoder().decode(stderr).trim().split("\n").at(-1) ?? "")
    .replaceAll("|", "\\|");
  return { ...JSON.parse(new TextDecoder().decode(stdout)), why };
}

/** Where `actual` first differs from `expected`, or undefined when they are equal. */
function difference(actual: Uint8Array, expected: Uint8Array): string | undefined {
  const length = Math.min(actual.length, expected.length);
  let at = 0;
  while (at < length && actual[at] === expected[at]) at++;
  if (at === length && actual.length === expected.length) return undefined;
  let line = 1;
  for (let i = 0; i < at; i++) if (expected[i] === 0x0a) line++;
  if (at < length) return `output differs at byte ${at} (line ${line})`;
  return actual.length < expected.length
    ? `output stops at byte ${at} (line ${line}) of ${expected.length}`
    : `output ${actual.length - expected.length} bytes too long`;
}

/** One row: our client piping `input` through our server, timed and checked. */
async function pipedRow(
  protocol: Protocol,
  label: string,
  input: PipedInput,
  target?: number,
): Promise<string> {
  const server = await startServer("deno", protocol);
  const output = input.file.replace(/\.txt$/, ".out");
  const client = [Deno.execPath(), "run", "--allow-net", `${protocol}/client.ts`];
  client.push("--port", `${server.port}`);
  let empty: Timed, run: Timed;
  try {
    empty = await timed("/dev/null", output, client); // start-up and exit, and a warm cache
    run = await timed(input.file, output, client);
  } finally {
    await server.stop();
  }
  const mib = input.bytes / MiB;
  const failure = run.signal === 9 && run.seconds >= CLIENT_LIMIT_SECONDS
    ? `killed after ${CLIENT_LIMIT_SECONDS} s`
    : run.signal !== 0
    ? `killed by signal ${run.signal}: ${run.why}`
    : run.code !== 0
    ? `exit ${run.code}: ${run.why}`
    : difference(await Deno.readFile(output), input.expected);
  const speed = mib / run.seconds;
  const verdict = target === undefined
    ? ""
    : `≥ ${target} MiB/s: ${!failure && speed >= target ? "pass" : "**FAIL**"}`;
  return `| ${protocol}/client.ts | ${label} | ${mib.toFixed(2)} MiB | ` +
    `${input.lines.toLocaleString("en-US")} | ${failure ?? "output correct"} | ` +
    `${failure ? "–" : speed.toFixed(1)} | ${(run.peak_rss_kib / 1024).toFixed(1)} | ` +
    `${Math.round(empty.seconds * 1000)} | ${verdict} |`;
}

async function pipedClients(): Promise<string[]> {
  const short = await writeInput("short", 10 * MiB, shortLine);
  const mixed = await writeInput("mixed", (quick ? 1 : 10) * MiB, mixedLine);
  // udp/client.ts keeps one datagram in flight: slow by design, so a much smaller input.
  const mixedForUdp = await writeInput("mixed_udp", (quick ? 50 : 200) * 1024, mixedLine);
  return [
    "| client | input | size | lines | result | MiB/s | peak RSS MiB | empty input ms | target |",
    "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    await pipedRow("tcp", "short lines", short, TARGET_MIB_PER_S),
    await pipedRow("tcp", "mixed lines", mixed),
    await pipedRow("udp", "mixed lines", mixedForUdp),
  ];
}

async function versionOf(command: string): Promise<string> {
  try {
    const { stdout, stderr } = await new Deno.Command(command, { args: ["--version"] }).output();
    return new TextDecoder().decode(stdout.length ? stdout : stderr).trim();
  } catch {
    return `${command} missing`;
  }
}

await main();

/** One new array holding `parts` one after another. */
function concat(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  parts.reduce((offset, part) => (joined.set(part, offset), offset + part.length), 0);
  return joined;
}
