/**
 * `deno task bench` part 2 (bench/run.ts, the last, takes the task's arguments): the piped UDP
 * client against the post's own loop in Python
 * (bench/baselines/udp_client.py: one socket, sendto, recvfrom, print), on the same 5,000 lines of
 * Korean and English, against our udp/server.ts. Ours opens a socket per line (so that a late or
 * doubled reply is never taken for a later line's) and keeps up to 32 lines in flight; the post's
 * loop reuses one socket and waits for each reply. Rounds alternate the two clients; each run is
 * timed from start to exit and its output checked byte for byte. Prints the median seconds, the
 * ratio (post's time ÷ ours: above 1 means ours is faster) with its min–max over the rounds.
 *
 *   deno run --allow-run --allow-read --allow-write --allow-net bench/udp_client.ts [--rounds N]
 *
 * @module
 */
import { upperCase } from "../shared/codec.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const rounds = Number(Deno.args[Deno.args.indexOf("--rounds") + 1]) || 7;
const WORDS = ["hello", "world", "안녕하세요", "세계", "소켓", "통신", "socket", "straße"];

let seed = 1;
const random = (limit: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % limit;
const lines = Array.from(
  { length: 5000 },
  () => Array.from({ length: 1 + random(20) }, () => WORDS[random(WORDS.length)]).join(" "),
);
const encoder = new TextEncoder();
const input = encoder.encode(lines.join("\n") + "\n");
const expected = new TextDecoder().decode(
  encoder.encode(
    lines.map((line) => new TextDecoder().decode(upperCase(encoder.encode(line))))
      .join("\n") + "\n",
  ),
);
const file = await Deno.makeTempFile({ suffix: ".txt" });
await Deno.writeFile(file, input);

const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-net=127.0.0.1", "udp/server.ts", "--port", "0", "--quiet"],
  cwd: ROOT,
  stdout: "piped",
  stderr: "null",
}).spawn();
const announcement = await server.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
const port = announcement.value!.match(/:(\d+)\n/)![1];

const clients: Record<string, string[]> = {
  "ours (udp/client.ts)": [
    Deno.execPath(),
    "run",
    "--allow-net=127.0.0.1",
    "udp/client.ts",
    "--port",
    port,
  ],
  "the post's loop (python3)": ["python3", "bench/baselines/udp_client.py", port],
};

/** Seconds from start to exit of `command < file`, its output checked. */
async function time(command: string[]): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command("sh", {
    args: ["-c", `"$@" < '${file}'`, "sh", ...command],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  });
  const { code, stdout } = await child.output();
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0 || new TextDecoder().decode(stdout) !== expected) {
    throw new Error(
      `${command.join(" ")}: exit ${code}, output ${stdout.length} bytes, not as expected`,
    );
  }
  return seconds;
}

const times: Record<string, number[]> = {};
const ratios: number[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    const order = Object.keys(clients);
    if (round % 2) order.reverse(); // neither always runs first
    const seconds: Record<string, number> = {};
    for (const name of order) (times[name] ??= []).push(seconds[name] = await time(clients[name]));
    ratios.push(seconds["the post's loop (python3)"] / seconds["ours (udp/client.ts)"]);
  }
} finally {
  server.kill();
  await server.status;
  await Deno.remove(file);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
console.log(
  `\nPiped UDP client, ${lines.length.toLocaleString("en-US")} lines (${
    (input.length / 1024).toFixed(0)
  } KiB), ${rounds} rounds:`,
);
for (const [name, values] of Object.entries(times)) {
  console.log(
    `  ${name.padEnd(28)} median ${median(values).toFixed(3)} s (${
      Math.min(...values).toFixed(3)
    }–${Math.max(...values).toFixed(3)})`,
  );
}
console.log(
  `  ours ÷ the post's loop (speed): ${median(ratios).toFixed(2)}× (${
    Math.min(...ratios).toFixed(2)
  }–${Math.max(...ratios).toFixed(2)})`,
);
