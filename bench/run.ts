/**
 * `deno task bench [--quick] [--rounds N]`: our servers against the bare Deno loop doing the
 * same work with the same codec (what our machinery costs), the same servers written for Node,
 * the blog post's Python servers and a minimal C epoll server (the machine's ceiling), on the same
 * workloads in the same run, driven by a compiled closed-loop load generator that checks every
 * reply byte. Each workload is measured in rounds that alternate the servers (deno, bare, node,
 * python, c, then again), so a slow minute of the machine falls on all of them. Prints a table of
 * median ops/s with its spread, MB/s, p50/p99 latency, peak RSS and each ratio against the bare
 * loop, Node and C (taken within a round), and writes it to bench/results.md. Then pipes 10 MB
 * through our two clients.
 *
 * Absolute numbers on shared machines are noise; the ratios, measured seconds apart on the
 * same machine, are the result, and only where they stand clear of their spread.
 *
 * @module
 */
import { freePortFor, type StartedProcess, startProcess } from "./processes.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BUILD = `${ROOT}bench/build`;
const { quick, rounds: ROUNDS } = parseArgs(Deno.args);
const SECONDS = quick ? 0.2 : 4;
const WARMUP_SECONDS = quick ? 0.1 : 0.5;

type Protocol = "tcp" | "udp";
type Implementation = "deno" | "bare" | "node" | "python" | "c";

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
const IMPLEMENTATIONS: Implementation[] = ["deno", "bare", "node", "python", "c"];
/** The columns of ratios: each server's ops/s over these, taken within the same round. */
const REFERENCES: [Implementation, string][] = [["bare", "× bare"], ["node", "× Node"], [
  "c",
  "× C",
]];

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

function parseArgs(args: string[]): { quick: boolean; rounds: number } {
  let quick = false;
  let rounds: number | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--quick") {
      quick = true;
    } else if (args[i] === "--rounds" || args[i].startsWith("--rounds=")) {
      const value = args[i].includes("=") ? args[i].slice("--rounds=".length) : args[++i];
      rounds = Number(value);
      if (!Number.isInteger(rounds) || rounds < 1) {
        throw new Error(`--rounds takes a whole number of at least 1, not ${value}`);
      }
    } else {
      throw new Error(`unknown argument ${args[i]}: bench/run.ts [--quick] [--rounds N]`);
    }
  }
  return { quick, rounds: rounds ?? (quick ? 2 : 3) };
}

async function build(): Promise<void> {
  await Deno.mkdir(BUILD, { recursive: true });
  for (const source of ["loadgen.c", "baselines/c_server.c"]) {
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
      return await startProcess(
        Deno.execPath(),
        ["run", "--allow-net", "bench/baselines/deno_bare.ts", protocol, "0"],
        ROOT,
      );
    case "node":
      return await startProcess("node", [`bench/baselines/node_server.mjs`, protocol, "0"], ROOT);
    case "c":
      return await startProcess(`${BUILD}/c_server`, [protocol, "0"], ROOT);
    case "python": {
      // The post's programs announce nothing: pick a free port, then wait until it is taken.
      const port = freePortFor(protocol);
      return await startProcess(
        "python3",
        [`tests/fixtures/${protocol}_server.py`, "127.0.0.1", `${port}`],
        ROOT,
        { port, protocol },
      );
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

/** `value` against its median, as the largest deviation either way: "±4%". */
function spread(values: number[]): string {
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

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);
}

/** One table row: the medians over the rounds that gave a result, and what the others gave. */
function row(workload: Workload, implementation: Implementation, all: Map<Implementation, Rounds>) {
  const rounds = all.get(implementation)!;
  const results = rounds.filter((round): round is Result => typeof round === "object");
  const failures = rounds.filter((round): round is string => typeof round === "string");
  const name = `| ${workload.name} | ${implementation} |`;
  if (results.length === 0) {
    return `${name} ${[...new Set(failures)].join("; ")} |${" |".repeat(5 + REFERENCES.length)}`;
  }
  const of = (field: keyof Result) => median(results.map((result) => result[field]));
  const ops = results.map((result) => result.ops_per_s);
  const lost = results.reduce((sum, result) => sum + result.lost, 0);
  const notes = [
    ...(failures.length ? [`${failures.length} of ${rounds.length} rounds: ${failures[0]}`] : []),
    ...(lost > 0 ? [`${lost} lost`] : []),
  ];
  return `${name} ${formatNumber(median(ops))} | ${spread(ops)} | ${of("mb_per_s").toFixed(1)} | ` +
    `${Math.round(of("p50_us"))} | ${Math.round(of("p99_us"))} | ` +
    `${Math.max(...results.map((result) => result.rssMiB)).toFixed(1)} | ` +
    REFERENCES.map(([reference]) => ratio(rounds, all.get(reference)!)).join(" | ") + " |" +
    (notes.length ? ` (${notes.join(", ")})` : "");
}

async function main(): Promise<void> {
  await build();
  const started = new Date();
  const table: string[] = [
    "| workload | server | ops/s | spread | MB/s | p50 µs | p99 µs | peak RSS MiB | " +
    REFERENCES.map(([, title]) => title).join(" | ") + " |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const workload of WORKLOADS) {
    const all = new Map<Implementation, Rounds>(IMPLEMENTATIONS.map((each) => [each, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const implementation of IMPLEMENTATIONS) {
        all.get(implementation)!.push(await measure(implementation, workload));
      }
    }
    const rows = IMPLEMENTATIONS.map((implementation) => row(workload, implementation, all));
    table.push(...rows);
    console.log(rows.join("\n"));
  }
  const piped = [
    "| client | input | exit | throughput | peak RSS |",
    "| --- | --- | ---: | ---: | ---: |",
    ...await pipedClients(),
  ];
  console.log(piped.join("\n"));
  const machine = `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, ` +
    `node ${await versionOf("node")}, ${await versionOf("python3")}`;
  const command = `deno task bench${quick ? " --quick" : ""}` +
    (Deno.args.some((arg) => arg.startsWith("--rounds")) ? ` --rounds ${ROUNDS}` : "");
  const report = [
    "# Benchmark results",
    "",
    `Run ${started.toISOString()} with \`${command}\` on ${machine}: ${ROUNDS} rounds of ` +
    `${SECONDS} s per cell after ${WARMUP_SECONDS} s warm-up, each round running every server ` +
    "in turn (deno, bare, node, python, c).",
    "ops/s is the median of the rounds and spread the largest distance of a round from it;",
    "MB/s (request bytes) and the latencies are medians too, RSS is the server's highest peak.",
    "Each ratio is taken within a round, seconds apart on the same machine, and given as the",
    "median with its min–max over the rounds. **A difference inside the spread is not a",
    "result.** Absolute numbers on shared machines are noise.",
    ...(quick
      ? ["", "`--quick` cells are too short for any ratio here to mean much: it checks the run."]
      : []),
    "",
    "- deno: our `tcp/server.ts` and `udp/server.ts`.",
    "- bare: `bench/baselines/deno_bare.ts`, the shortest Deno loop doing the same work with the",
    "  same codec. Our servers' × bare is what their machinery (flags, logs, limits, shutdown)",
    "  costs.",
    "- node: `bench/baselines/node_server.mjs`; python: the post's programs; c: the machine's",
    "  ceiling, `bench/baselines/c_server.c`.",
    "",
    ...table,
    "",
    "Piped clients (Korean and English lines through our own server):",
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

async function pipedClients(): Promise<string[]> {
  const file = `${BUILD}/piped.txt`;
  const words = ["hello", "world", "안녕하세요", "세계", "소켓", "통신", "socket", "deno"];
  const lines: string[] = [];
  let seed = 1;
  const random = (limit: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % limit;
  const target = quick ? 1_000_000 : 10_000_000;
  for (let size = 0; size < target;) {
    const line = Array.from({ length: 1 + random(20) }, () => words[random(words.length)]).join(
      " ",
    );
    lines.push(line);
    size += new TextEncoder().encode(line).length + 1;
  }
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  const bytes = (await Deno.stat(file)).size;
  const rows: string[] = [];
  for (const protocol of ["tcp", "udp"] as const) {
    const server = await startServer("deno", protocol);
    try {
      const started = performance.now();
      const client = await startProcess(
        Deno.execPath(),
        [
          "run",
          "--allow-net",
          `${protocol}/client.ts`,
          "--port",
          `${server.port}`,
        ],
        ROOT,
        { stdinFile: file, waitForAnnouncement: false },
      );
      const status = await client.exited();
      const seconds = (performance.now() - started) / 1000;
      const rss = client.peakRssSeen();
      rows.push(
        `| ${protocol}/client.ts | ${(bytes / 1e6).toFixed(1)} MB | ${status.code} | ` +
          `${(bytes / 1e6 / seconds).toFixed(1)} MB/s | ${rss.toFixed(1)} MiB |`,
      );
    } finally {
      await server.stop();
    }
  }
  return rows;
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
