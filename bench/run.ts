/**
 * `deno task bench [--quick]`: our servers against the bare Deno loop doing the same work with
 * the same codec (what our machinery costs), the same servers written for Node, the blog post's
 * Python servers and a minimal C epoll server (the machine's ceiling), on the same
 * workloads in the same run, driven by a compiled closed-loop load generator that checks every
 * reply byte. Prints a table of ops/s, MB/s, p50/p99 latency and peak RSS, each ratio against
 * Node and C, and writes it to bench/results.md. Then pipes 10 MB through our two clients.
 *
 * Absolute numbers on shared machines are noise; the ratios, measured minutes apart on the
 * same machine, are the result.
 *
 * @module
 */
import { freePortFor, type StartedProcess, startProcess } from "./processes.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BUILD = `${ROOT}bench/build`;
const quick = Deno.args.includes("--quick");
const SECONDS = quick ? 0.3 : 3;
const WARMUP_SECONDS = quick ? 0.1 : 0.3;

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

const IMPLEMENTATIONS: Implementation[] = ["deno", "bare", "node", "python", "c"];

interface Result {
  ops_per_s: number;
  mb_per_s: number;
  p50_us: number;
  p99_us: number;
  errors: number;
  lost: number;
  rssMiB: number;
}

async function build(): Promise<void> {
  await Deno.mkdir(BUILD, { recursive: true });
  for (const [source, binary] of [["loadgen.c", "loadgen"], ["baselines/c_server.c", "c_server"]]) {
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

function ratio(value: number | undefined, base: number | undefined): string {
  if (value === undefined || base === undefined || base === 0) return "–";
  return `${(value / base).toFixed(2)}×`;
}

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);
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

async function main(): Promise<void> {
  await build();
  const started = new Date();
  const table: string[] = [
    "| workload | server | ops/s | MB/s | p50 µs | p99 µs | peak RSS MiB | × Node | × C |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const workload of WORKLOADS) {
    const results = new Map<Implementation, Result | string>();
    for (const implementation of IMPLEMENTATIONS) {
      results.set(implementation, await measure(implementation, workload));
    }
    const node = results.get("node");
    const c = results.get("c");
    for (const implementation of IMPLEMENTATIONS) {
      const result = results.get(implementation)!;
      if (typeof result === "string") {
        table.push(`| ${workload.name} | ${implementation} | ${result} | | | | | | |`);
        continue;
      }
      const ops = result.ops_per_s;
      table.push(
        `| ${workload.name} | ${implementation} | ${formatNumber(ops)} | ` +
          `${result.mb_per_s.toFixed(1)} | ${result.p50_us} | ${result.p99_us} | ` +
          `${result.rssMiB.toFixed(1)} | ` +
          `${ratio(ops, typeof node === "object" ? node.ops_per_s : undefined)} | ` +
          `${ratio(ops, typeof c === "object" ? c.ops_per_s : undefined)} |` +
          (result.lost > 0 ? ` (${result.lost} lost)` : ""),
      );
    }
    console.log(table.slice(-IMPLEMENTATIONS.length).join("\n"));
  }
  const piped = [
    "| client | input | exit | throughput | peak RSS |",
    "| --- | --- | ---: | ---: | ---: |",
    ...await pipedClients(),
  ];
  console.log(piped.join("\n"));
  const machine = `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, ` +
    `node ${await versionOf("node")}, ${await versionOf("python3")}`;
  const report = [
    "# Benchmark results",
    "",
    `Run ${started.toISOString()} with \`deno task bench${quick ? " --quick" : ""}\` ` +
    `(${SECONDS} s per cell after ${WARMUP_SECONDS} s warm-up) on ${machine}.`,
    "Ratios are against Node and the C epoll server measured in the same run; absolute",
    "numbers on shared machines are noise. MB/s counts request bytes; RSS is the server's peak.",
    "",
    ...table,
    "",
    "Piped clients (Korean and English lines through our own server):",
    "",
    ...piped,
    "",
  ].join("\n");
  await Deno.writeTextFile(`${ROOT}bench/results.md`, report);
  console.log(`\nwritten to bench/results.md`);
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
