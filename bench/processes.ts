/**
 * Starting and measuring the processes a benchmark runs: servers that announce their port
 * (`listening on tcp://127.0.0.1:PORT`) or are polled until their port is taken, and their
 * memory from /proc (read with `cat`: Deno guards /proc behind --allow-all).
 *
 * @module
 */

export interface StartedProcess {
  port: number;
  /** The kernel's high-water mark of the process's resident memory (VmHWM), in MiB. */
  peakRssMiB(): Promise<number>;
  stop(): Promise<void>;
}

interface StartOptions {
  /** For servers that announce nothing: the port they were given, polled until taken. */
  port?: number;
  protocol?: "tcp" | "udp";
}

export async function startProcess(
  command: string,
  args: string[],
  cwd: string,
  options: StartOptions = {},
): Promise<StartedProcess> {
  const child = new Deno.Command(command, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let port = options.port ?? 0;
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  const reader = lines.getReader();
  if (options.port === undefined) {
    let text = "";
    const deadline = Date.now() + 20_000;
    while (!/listening on \w+:\/\/.*:(\d+)\n/.test(text) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const match = text.match(/listening on \w+:\/\/.*:(\d+)\n/);
    if (!match) throw new Error(`${command} ${args.join(" ")} did not announce its port`);
    port = Number(match[1]);
  } else {
    await waitUntilTaken(options.port, options.protocol ?? "tcp");
  }
  // Keep reading stdout so the process never blocks on a full pipe.
  const drained = (async () => {
    while (!(await reader.read()).done) {
      // discard
    }
  })();
  return {
    port,
    peakRssMiB: () => readPeakRss(child.pid),
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
      await drained.catch(() => {});
    },
  };
}

/** A port that was free a moment ago, for programs that cannot bind port 0 and tell. */
export function freePortFor(protocol: "tcp" | "udp"): number {
  if (protocol === "tcp") {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr;
    listener.close();
    return port;
  }
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const { port } = socket.addr as Deno.NetAddr;
  socket.close();
  return port;
}

async function waitUntilTaken(port: number, protocol: "tcp" | "udp"): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    try {
      if (protocol === "tcp") Deno.listen({ hostname: "127.0.0.1", port }).close();
      else Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" }).close();
    } catch {
      return; // taken: the server is up
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nothing took port ${port}`);
}

/** The kernel's high-water mark of `pid`'s resident memory (VmHWM), in MiB; 0 once it is gone. */
async function readPeakRss(pid: number): Promise<number> {
  try {
    const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
    const match = new TextDecoder().decode(stdout).match(/VmHWM:\s+(\d+) kB/);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
