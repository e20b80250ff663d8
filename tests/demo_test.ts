/**
 * `deno task demo`: driven as a subprocess with the task's own permissions, as a learner runs
 * it; checks what the diagram shows and that no child process outlives it. The ordering rules
 * are also checked on made-up events, where TCP's framing can be chosen.
 */
import assert from "node:assert/strict";
import { escapeMermaid, layoutFor, orderByCause, parseEvent, renderRow } from "../demo/diagram.ts";
import { displayWidth } from "../shared/trace.ts";
import {
  atPrompts,
  type CollectedOutput,
  collectOutput,
  decode,
  encode,
  hasCommand,
  onTerminal,
  ROOT,
  RUN_LIMIT_MS,
  START_LIMIT_MS,
  test,
  waitUntil,
} from "./helpers.ts";
const env = { NO_COLOR: "1" };
/** The task line of deno.json; where `deno` is not on PATH, the same grant by its full path. */
const TASK_LINE = ["run", "--allow-run=deno", "demo/main.ts"];
const TASK = hasCommand("deno")
  ? TASK_LINE
  : ["run", `--allow-run=${Deno.execPath()}`, "demo/main.ts"];

interface Demo {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the demo with `--verbose`; `stdin` is piped in, or kept open until `during` returns.
 * `during` can wait for what the demo writes on stderr, such as its children's trace lines.
 */
async function demo(
  args: string[],
  { stdin = "", during }: {
    stdin?: string;
    during?: (child: Deno.ChildProcess, stderr: CollectedOutput) => Promise<void>;
  } = {},
): Promise<Demo> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...TASK, ...args, "--verbose"],
    cwd: ROOT,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), RUN_LIMIT_MS);
  const stdout = new Response(child.stdout).text();
  const stderr = collectOutput(child.stderr);
  const writer = child.stdin.getWriter();
  await writer.write(encode(stdin));
  if (during) await during(child, stderr); // stdin stays open until the demo has exited
  else await writer.close();
  const { code } = await child.status;
  await writer.close().catch(() => {});
  await stderr.done;
  clearTimeout(killer);
  const result = { code, stdout: await stdout, stderr: stderr.text() };
  await assertNoChildLeft(result.stderr);
  return result;
}

/** Every pid the demo reported (`[demo] udp/server.ts: pid 123`) is gone. */
async function assertNoChildLeft(stderr: string) {
  const pids = [...stderr.matchAll(/^\[demo\] \S+: pid (\d+)$/gm)].map((m) => m[1]);
  assert.ok(pids.length > 0, `no pids reported:\n${stderr}`);
  for (const pid of pids) {
    const gone = async () => !(await Deno.stat(`/proc/${pid}`).then(() => true, () => false));
    await waitUntil(gone, `process ${pid} to end`, { timeoutMs: 2_000 });
  }
}

/** The lines of a diagram that match `pattern`. */
const rows = (stdout: string, pattern: RegExp) => stdout.split("\n").filter((l) => pattern.test(l));

test("demo udp draws each line's socket, datagrams both ways and the prints", async () => {
  const { code, stdout } = await demo(["udp", "hello", "안녕하세요"]);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /sendto \|-+ 5 B "hello" -+>\|/);
  assert.match(stdout, /\|<-+ 5 B "HELLO" -+\| sendto/);
  assert.match(stdout, /\|-+ 15 B "안녕하세요" -+>\|/);
  assert.equal(rows(stdout, /socket \+ bind \|/).length, 2, "one socket per line");
  assert.equal(rows(stdout, /recvfrom \d+ B \|/).length, 2);
  assert.equal(rows(stdout, /^ +print "(HELLO|안녕하세요)" \|/).length, 2);
  assert.match(stdout.trimEnd().split("\n").at(-1)!, /\| close$/, "the server's close last");
  for (const line of stdout.split("\n")) assert.ok(displayWidth(line) < 80, line);
});

test("demo udp --drop 1 draws the lost reply and the client's timeout", async () => {
  const { code, stdout } = await demo(["udp", "--drop", "1", "hello"]);
  assert.equal(code, 1, "the client's status: a line got no reply");
  assert.match(stdout, /\| +X-+ reply lost \(--drop\) -+\| drop: not sent/);
  assert.match(stdout, /\| dropped the reply to/, "the server's log line too");
  assert.match(stdout, /recvfrom: no reply \|/);
  assert.doesNotMatch(stdout, /print/);
});

test("demo udp --duplicate 1 draws two replies, one printed, one never read", async () => {
  const { code, stdout } = await demo(["udp", "--duplicate", "1", "hello"]);
  assert.equal(code, 0);
  assert.equal(rows(stdout, /\|<-+ 5 B "HELLO" -+\| sendto/).length, 1);
  assert.equal(rows(stdout, /\(its socket is closed: \|<\.+ 5 B "HELLO" \.+\| sendto/).length, 1);
  assert.equal(rows(stdout, /print "HELLO"/).length, 1);
  assert.match(stdout, /\| doubled the reply/);
});

test("demo tcp draws the connection, the bytes, the half-close and both closes", async () => {
  const { code, stdout } = await demo(["tcp", "hello", "world"]);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /socket \+ connect \|-+ SYN, SYN-ACK, ACK -+>\|/);
  assert.match(stdout, /\| accept: new socket #1/);
  assert.match(stdout, /send \|-+ 6 B "hello\\n" -+>\|/);
  assert.match(stdout, /\|<-+ 6 B "WORLD\\n" -+\| send/);
  assert.match(stdout, /shutdown\(SHUT_WR\) \|-+ FIN \(end of stream\) -+>\|/);
  assert.match(stdout, /\| recv 0 B: the peer/);
  assert.match(stdout, /\| accept: new socket #1\n.*\| 127\.0\.0\.1:\d+\n/, "the peer, once");
  assert.match(stdout, /\| #1 connected\n/, "the server's log in its lane, by number");
  assert.equal(rows(stdout, /close #1/).length, 2);
});

test("demo tcp takes piped lines and half-closes at their end", async () => {
  const { code, stdout } = await demo(["tcp"], { stdin: "hello\nworld\n" });
  assert.equal(code, 0);
  assert.match(stdout, /print "HELLO\\n/);
  assert.match(stdout, /shutdown\(SHUT_WR\) \|-+ FIN/);
});

/** Mermaid's sequenceDiagram, as the demo writes it: every line one of these. */
const MERMAID_LINE =
  /^ {4}(participant [CS] as (udp|tcp)\/(client|server)\.ts|Note over [CS]: .+|[CS](->>|-x|--\)|-\))[CS]: .+)$/;

function assertMermaid(text: string) {
  const [first, ...lines] = text.trimEnd().split("\n");
  assert.equal(first, "sequenceDiagram");
  for (const line of lines) {
    assert.match(line, MERMAID_LINE);
    const content = line.replace(/^.*?: /, "").replace(/#\d+;/g, "");
    assert.doesNotMatch(content, /[#;"<>]/, `unescaped: ${line}`);
    assert.doesNotMatch(content, /\d+\.\d+\.\d+\.\d+|:\d{3,}/, `an address or port: ${line}`);
  }
}

test("demo --mermaid prints a valid sequenceDiagram, the same every run", async () => {
  const udp = await demo(["udp", "hello", "--mermaid"]);
  assertMermaid(udp.stdout);
  assert.match(udp.stdout, /\n {4}C->>S: sendto 5 B #34;hello#34;\n/);
  assert.match(udp.stdout, /\n {4}S->>C: sendto 5 B #34;HELLO#34;\n/);
  assert.equal((await demo(["udp", "hello", "--mermaid"])).stdout, udp.stdout);
  const lost = await demo(["udp", "--drop", "1", "hello", "--mermaid"]);
  assertMermaid(lost.stdout);
  assert.match(lost.stdout, /\n {4}S-xC: reply lost \(--drop\)\n/);
  const tcp = await demo(["tcp", "hello", "world", "--mermaid"]);
  assertMermaid(tcp.stdout);
  assert.match(tcp.stdout, /C->>S: connect[\s\S]*Note over S: accept[\s\S]*C-\)S: shutdown/);
});

test("demo stops both children on SIGINT and exits with the client's 130", async () => {
  const { code, stdout, stderr } = await demo(["tcp"], {
    during: async (child, stderr) => {
      // Piped and idle, the client waits for its first line: once the server listens and the
      // client has connected (their trace lines say so), interrupt the demo alone (not its
      // process group, as a terminal would).
      await stderr.waitFor(/^\[tcp\/server\] bind\+listen /, START_LIMIT_MS);
      await stderr.waitFor(/^\[tcp\/client\] connect /, START_LIMIT_MS);
      child.kill("SIGINT");
    },
  });
  assert.equal(code, 130);
  assert.match(stdout, /\| close$/m, "the server was stopped and drew its close");
  // Its own stdin still open, the demo waited for its client's output alone, not for the pipe.
  assert.doesNotMatch(stderr, /may still be running/);
});

const HAS_NODE = hasCommand("node");
if (!HAS_NODE) {
  console.warn('skipping "demo with a wrapper deno": node not found (apt-get install nodejs)');
}
test(
  "demo with a wrapper as deno (npm's bin.cjs) ends, saying that a server may be left",
  async () => {
    // A `deno` like npm's bin.cjs: deno in a child process, and nothing forwarded to it.
    const dir = await Deno.makeTempDir();
    const node = decode(
      new Deno.Command("sh", { args: ["-c", "command -v node"] }).outputSync().stdout,
    );
    await Deno.writeTextFile(
      `${dir}/deno`,
      `#!${node.trim()}
const child = require("node:child_process").spawn(process.env.REAL_DENO, process.argv.slice(2), {
  stdio: "inherit",
});
require("node:fs").appendFileSync(process.env.PID_FILE, child.pid + "\\n");
child.on("exit", (code) => process.exit(code ?? 1));
`,
      { mode: 0o755 },
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [...TASK_LINE, "udp", "hello", "--mermaid"],
      cwd: ROOT,
      env: { ...env, PATH: dir, REAL_DENO: Deno.execPath(), PID_FILE: `${dir}/pids` },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), RUN_LIMIT_MS);
    try {
      const { code, stdout, stderr } = await child.output();
      assert.equal(code, 0, decode(stderr));
      assert.match(decode(stdout), /Note over C: print #34;HELLO#34;/);
      assert.match(
        decode(stderr),
        /error: udp\/server\.ts on port \d+ may still be running: `deno` on PATH seems to be a wrapper.*: export PATH="\/.+:\$PATH"/,
      );
    } finally {
      clearTimeout(killer);
      const pids = await Deno.readTextFile(`${dir}/pids`).catch(() => "");
      for (const pid of pids.split("\n").filter(Boolean)) {
        try {
          Deno.kill(Number(pid), "SIGKILL"); // the server the wrapper left behind
        } catch { /* it has exited */ }
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
  !HAS_NODE,
);

test("demo --help says what it draws and with which permissions", async () => {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [...TASK, "--help"],
    cwd: ROOT,
    env,
  }).output();
  assert.equal(code, 0);
  const help = decode(stdout);
  for (const part of ["--drop P", "--duplicate P", "--mermaid", "--allow-run=deno"]) {
    assert.ok(help.includes(part), part);
  }
  assert.match(help, /--allow-net=127\.0\.0\.1/);
  const task = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks.demo;
  assert.equal(task, `deno ${TASK_LINE.join(" ")}`, "the task grants what --help says");
});

/** Events as the scripts report them, with only the fields the order looks at. */
function events(side: "client" | "server", ...lines: object[]) {
  return lines.map((event, time) => parseEvent(JSON.stringify({ time, ...event }), side));
}
const b64 = (text: string) => btoa(String.fromCharCode(...encode(text)));
const C = "127.0.0.1:40000", S = "127.0.0.1:5005";

Deno.test("a TCP read is drawn after the sends it holds, with how it is framed", () => {
  const client = events(
    "client",
    { call: "connect", conn: "#1", local: C, peer: S },
    { call: "send", conn: "#1", offset: 0, data: b64("hello\n") },
    { call: "send", conn: "#1", offset: 6, data: b64("world\n") },
    { call: "recv", conn: "#1", offset: 0, data: b64("HEL") },
    { call: "recv", conn: "#1", offset: 3, data: b64("LO\nWORLD\n") },
  );
  const server = events(
    "server",
    { call: "accept", conn: "#1", local: S, peer: C },
    { call: "recv", conn: "#1", offset: 0, data: b64("hello\nworld\n") },
    { call: "send", conn: "#1", offset: 0, data: b64("HELLO\nWORLD\n") },
  );
  const drawn: string[] = [];
  const order = orderByCause(({ event, framing }) => {
    drawn.push(`${event.side} ${event.call}${framing ? ` (${framing})` : ""}`);
  }, false);
  // The server's lines come first, as a pipe may deliver them: causes still come first.
  [...server, ...client].forEach((event) => order.push(event));
  order.finish();
  assert.deepEqual(drawn, [
    "client connect",
    "server accept",
    "client send",
    "client send",
    "server recv (2 sends in one read)",
    "server send",
    "client recv (part of one send)",
    "client recv (part of one send)",
  ]);
});

Deno.test("a UDP reply is drawn after its sendto; one to a closed socket as never read", () => {
  const reply = { call: "sendto", local: S, peer: C, data: b64("HI") };
  const server = events(
    "server",
    { call: "recvfrom", local: S, peer: C, data: b64("hi") },
    reply,
    reply,
  );
  const client = events(
    "client",
    { call: "sendto", local: C, peer: S, data: b64("hi") },
    { call: "recvfrom", local: C, peer: S, data: b64("HI") },
    { call: "close", local: C },
  );
  const layout = layoutFor(80, "udp");
  const drawn: string[] = [];
  const order = orderByCause((step) => drawn.push(renderRow(step, layout)[0]), false);
  [...server, ...client].forEach((event) => order.push(event)); // the receive read first
  order.finish();
  assert.match(drawn[0], /sendto \|-+ 2 B "hi" -+>\|/);
  assert.match(drawn[1], /\| recvfrom 2 B$/);
  assert.match(drawn[2], /\|<-+ 2 B "HI" -+\| sendto$/);
  assert.match(drawn[3], /recvfrom 2 B \|/);
  assert.match(drawn[4], /close \|/);
  assert.match(drawn[5], /\(its socket is closed: \|<\.+ 2 B "HI" \.+\| sendto$/);
});

Deno.test("Mermaid text escapes what Mermaid would read itself", () => {
  assert.equal(escapeMermaid('say "a;b" #1 <br>'), "say #34;a#59;b#34; #35;1 #60;br#62;");
});

/** The demo at a terminal: type `lines` at its prompts, then `end` (Ctrl-D or Ctrl-C). */
async function typedIntoDemo(args: string[], lines: string[], end: string) {
  const steps = [
    ...atPrompts(lines),
    // The diagram draws arrows ("-->") too: wait for the last reply's print row, not for "->".
    { expect: `print "${lines.at(-1)!.toUpperCase()}` },
    { type: end },
  ];
  const { code, screen } = await onTerminal(
    [Deno.execPath(), ...TASK, ...args, "--verbose"],
    steps,
  );
  await assertNoChildLeft(screen);
  return { code, screen };
}

const noPty = !hasCommand("python3");
if (noPty) console.warn("skipping the demo's terminal tests: python3 (its pty module) not found");

test("demo at a terminal: the prompt takes a typed line, Ctrl-D ends both", async () => {
  const { code, screen } = await typedIntoDemo(["udp"], ["hello"], "\x04");
  assert.equal(code, 0, screen);
  assert.match(screen, /^->hello$/m, "the typed line on the prompt's line");
  assert.match(screen, /sendto \|-+ 5 B "hello" -+>\|/);
  assert.match(screen, /print "HELLO" \|/);
  assert.match(screen, /\| close$/m);
}, noPty);

test(
  "demo at a terminal: each line's rows come between its prompts, none glued to a row",
  async () => {
    // The client's prompt (its stdout) and its trace (stderr) come down two pipes, in either order.
    const steps = ["first", "second", "third"].flatMap((line) => [
      { expect: "->" },
      { type: `${line}\n` },
      { expect: `print "${line.toUpperCase()}"` },
    ]);
    const { code, screen } = await onTerminal([Deno.execPath(), ...TASK, "udp"], [
      ...steps,
      { type: "\x04" },
    ]);
    assert.equal(code, 0, screen);
    for (const line of ["first", "second", "third"]) {
      assert.match(
        screen,
        new RegExp(`^->${line}$`, "m"),
      );
    }
    // A prompt is erased (\r, then ESC [K) before a row takes its place: never a row after "->".
    assert.doesNotMatch(screen, /^->[^\r\n]*\|/m, "a row drawn after the prompt on its line");
  },
  noPty,
);

test("demo at a terminal: Ctrl-C stops all three, exit 130", async () => {
  const { code, screen } = await typedIntoDemo(["tcp"], ["hello"], "\x03");
  assert.equal(code, 130, screen);
  assert.match(screen, /print "HELLO\\n" \|/);
}, noPty);
