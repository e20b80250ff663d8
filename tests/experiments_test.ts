/**
 * The experiments of issue #25: `--recv-size` on the four scripts (a datagram cut as the post's
 * `recvfrom(1024)` cuts it, a TCP read that cuts a character, which is held for the next), the
 * demo drawing them (`--recv-size`, `--at-once`), and the demo's rough edges: one display width,
 * a narrow terminal, a resize, `--drop 1` with LINEs, `--mermaid` at a terminal, the TCP lane.
 */
import assert from "node:assert/strict";
import { layoutFor, renderHeader } from "../demo/diagram.ts";
import { upperCase } from "../shared/codec.ts";
import { displayWidth } from "../shared/trace.ts";
import {
  concat,
  connect,
  decode,
  encode,
  hasCommand,
  onTerminal,
  randomSource,
  readBytes,
  runDemo,
  runScript,
  startServer,
  type TerminalStep,
  test,
  udpSocket,
  WAIT_LIMIT_MS,
  withinOrFail,
  writeAll,
} from "./helpers.ts";

const SCRIPTS = ["udp/server.ts", "udp/client.ts", "tcp/server.ts", "tcp/client.ts"];

for (const script of SCRIPTS) {
  test(`${script} checks --recv-size like every flag and lists it in --help`, async () => {
    for (const value of ["0", "65537", "1.5", "x"]) {
      const result = await runScript(script, ["--recv-size", value]);
      assert.equal(result.code, 2, `--recv-size ${value}`);
      const name = script.replace(/\.ts$/, "");
      assert.equal(
        result.stderr,
        `[${name}] error: --recv-size must be a whole number from 1 to 65536, not "${value}" ` +
          "(see --help)\n",
      );
    }
    const help = await runScript(script, ["--help"]);
    assert.match(decode(help.stdout), /^ {2}--recv-size BYTES +\S/m);
  });
}

test("udp/server --recv-size 4 cuts a longer datagram, says so for it, and serves on", async () => {
  await using server = await startServer("udp/server.ts", ["--recv-size", "4"]);
  using socket = udpSocket();
  const cut = `127.0.0.1:${socket.port}: a datagram longer than 4 B, cut (--recv-size)`;
  assert.equal(decode(await socket.roundTrip(encode("hello"), server.port)), "HELL");
  await server.waitForLog(new RegExp(`^\\[udp/server\\] ${cut.replace(/[.()-]/g, "\\$&")}$`));
  assert.equal(decode(await socket.roundTrip(encode("abcd"), server.port)), "ABCD");
  // 안녕 is ec 95 88 eb 85 95: the cut leaves 안 and the first byte of 녕, passed as it came.
  const korean = await socket.roundTrip(encode("안녕"), server.port);
  assert.deepEqual(korean, concat([encode("안"), Uint8Array.of(0xeb)]));
  assert.equal(decode(await socket.roundTrip(encode("ok"), server.port)), "OK");
  await server.stop();
  const lines = server.stderr().trimEnd().split("\n");
  assert.deepEqual(lines, [`[udp/server] ${cut}`, `[udp/server] ${cut}`], "hello and 안녕 only");
});

test("udp/server --recv-size 1024 answers the post's way: 1,500 bytes in, 1,024 back", async () => {
  await using server = await startServer("udp/server.ts", ["--recv-size", "1024"]);
  using socket = udpSocket();
  const random = randomSource(1024);
  const datagram = Uint8Array.from({ length: 1500 }, () => 0x61 + random(26)); // a-z
  const reply = await socket.roundTrip(datagram, server.port);
  assert.equal(reply.length, 1024);
  assert.deepEqual(reply, upperCase(datagram.subarray(0, 1024)));
});

test("udp/client --recv-size 2048 prints the first 2,048 bytes of a longer reply, warns", async () => {
  // A server of the test's own that answers every datagram with 3,000 bytes.
  using server = udpSocket();
  const reply = Uint8Array.from({ length: 3000 }, (_, i) => 0x41 + (i % 26)); // A-Z, again
  const answering = (async () => {
    for await (const [, from] of server) await server.send(reply, from);
  })().catch(() => {}); // ends when the socket is closed
  try {
    for (const recvSize of [[], ["--recv-size", "2048"]]) {
      const args = ["--port", `${server.port}`, "--timeout", "5", ...recvSize];
      const result = await runScript("udp/client.ts", args, "hi\n");
      assert.equal(result.code, 0, result.stderr);
      const printed = recvSize.length ? reply.subarray(0, 2048) : reply; // by default: whole
      assert.deepEqual(result.stdout, concat([printed, encode("\n")]));
      assert.equal(
        result.stderr,
        recvSize.length ? "[udp/client] line 1: the reply was longer than 2048 B: cut\n" : "",
      );
    }
  } finally {
    server.close();
    await answering;
  }
});

test("tcp/server --recv-size 4 reads 4 bytes at most and holds a cut character", async () => {
  await using server = await startServer("tcp/server.ts", ["--recv-size", "4", "--trace"]);
  using conn = await connect(server.port);
  await writeAll(conn, encode("안녕\n")); // one write of 7 bytes
  assert.equal(decode(await readBytes(conn, 7)), "안녕\n");
  await server.waitForLog(/^\[tcp\/server\] hold +127\.0\.0\.1:\d+ 1 B "\\xeb"$/);
  const reads = server.stderr().split("\n").flatMap((line) => {
    const size = line.match(/^\[tcp\/server\] recv +#\d+ -> ([\d,]+) B/)?.[1];
    return size ? [Number(size)] : [];
  });
  assert.ok(reads.length >= 2 && reads.every((size) => size <= 4), `reads: ${reads}`);
  assert.equal(reads[0], 4, "the first read took 4 bytes of the 7");
});

test("tcp/server --recv-size 5 loses nothing of random Korean and ASCII in random writes", async () => {
  await using server = await startServer("tcp/server.ts", ["--recv-size", "5"]);
  const random = randomSource(25);
  let text = "";
  while (text.length < 12_000) {
    // A Hangul syllable (3 bytes), or a printable ASCII character or a newline.
    text += random(2)
      ? String.fromCharCode(0xac00 + random(11_172))
      : random(20)
      ? String.fromCharCode(0x20 + random(95))
      : "\n";
  }
  const input = encode(text);
  const expected = upperCase(input);
  using conn = await connect(server.port);
  conn.setNoDelay(true); // each write its own segment, as far as TCP lets it
  const reply = readBytes(conn, expected.length);
  for (let at = 0; at < input.length;) {
    const size = 1 + random(40);
    await writeAll(conn, input.subarray(at, at + size));
    at += size;
  }
  const got = await withinOrFail(reply, WAIT_LIMIT_MS, "the reply stopped short");
  assert.equal(got.length, expected.length);
  assert.deepEqual(got, expected);
});

/** The lines of Mermaid text that match `pattern`, each its first group. */
const matches = (text: string, pattern: RegExp) =>
  text.split("\n").flatMap((line) => line.match(pattern)?.[1] ?? []);

/** Mermaid's entity codes (`#34;`) back to their characters. */
const unescapeMermaid = (text: string) =>
  text.replace(/#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));

/** The bytes that a preview (`"안\xeb\n"`, as `--trace` and the demo quote them) stands for. */
function previewBytes(quoted: string): Uint8Array {
  assert.match(quoted, /^".*"$/);
  assert.ok(!quoted.endsWith('…"'), `cut off: ${quoted}`);
  const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
  const parts = [...quoted.slice(1, -1).matchAll(/\\x([0-9a-f]{2})|\\(.)|([^\\]+)/g)].map(
    ([, hex, escaped, text]) =>
      hex ? Uint8Array.of(parseInt(hex, 16)) : encode(text ?? escapes[escaped]),
  );
  return concat(parts);
}

test("demo tcp --recv-size 4 안녕 draws reads of 4 bytes at most, the hold, the whole reply", async () => {
  const { code, stdout } = await runDemo(["tcp", "--recv-size", "4", "안녕", "--mermaid"]);
  assert.equal(code, 0, stdout);
  const reads = matches(stdout, /^ {4}Note over S: recv (\d+) B/).map(Number);
  assert.ok(reads.length >= 2 && reads.every((size) => size <= 4), `reads: ${reads}`);
  assert.ok(reads.includes(4), `no read of 4 bytes: ${reads}`);
  assert.match(stdout, /^ {4}Note over S: hold 1 B #34;\\xeb#34;/m);
  const prints = matches(stdout, /^ {4}Note over C: print (.*)$/);
  const printed = concat(prints.map((text) => previewBytes(unescapeMermaid(text))));
  assert.equal(decode(printed), "안녕\n", `the prints: ${prints}`);
});

test("demo tcp --at-once sends the LINEs in one send; --help names it and --recv-size", async () => {
  const { code, stdout } = await runDemo(["tcp", "--at-once", "hello", "world", "--mermaid"]);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /^ {4}C->>S: send 12 B #34;hello\\nworld\\n#34;$/m);
  assert.equal(matches(stdout, /^ {4}(C->>S: send) /).length, 1, "one send");
  const help = await runDemo(["--help"]);
  assert.match(help.stdout, /^ {2}--at-once +\S/m);
  assert.match(help.stdout, /^ {2}--recv-size BYTES +\S/m);
});

/** The columns (as a terminal draws them) of the lifelines `|` in a row of the diagram. */
function lifelines(row: string): number[] {
  const columns: number[] = [];
  let column = 0;
  for (const char of row) {
    if (char === "|") columns.push(column);
    column += displayWidth(char);
  }
  return columns;
}

/** The rows of the diagram in `stdout`: every non-empty line. */
const diagramRows = (stdout: string) => stdout.split("\n").filter((line) => line !== "");

test("demo: the lifelines stay in their columns with Hangul and a label cut with …", async () => {
  const long = "x".repeat(200);
  const { code, stdout } = await runDemo(["udp", "안녕하세요", long]);
  assert.equal(code, 0, stdout);
  const rows = diagramRows(stdout);
  assert.ok(rows.some((row) => row.includes('"안녕하세요"')), stdout);
  assert.ok(rows.some((row) => /\|-+ 200 B "x+…" -+>\|/.test(row)), "a label cut with …");
  const [header, ...rest] = rows;
  const columns = lifelines(header);
  assert.equal(columns.length, 2, header);
  for (const row of rest) assert.deepEqual(lifelines(row), columns, row);
});

/** `command` on a terminal `columns` wide from the start, doing `steps` (tests/helpers.ts). */
const onSizedTerminal = (command: string[], columns: number, steps: TerminalStep[]) =>
  onTerminal(command, [{ columns }, ...steps]);

/** The demo as the task runs it, for a terminal: its command line. */
const DEMO_COMMAND = [Deno.execPath(), "run", `--allow-run=${Deno.execPath()}`, "demo/main.ts"];

/** A terminal's escape sequence (`ESC [ ... letter`): it moves or erases, it shows nothing. */
// deno-lint-ignore no-control-regex
const ESCAPE_SEQUENCE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** What each line of a terminal shows: what follows its last `\r`, without escape sequences. */
const terminalRows = (screen: string) =>
  screen.split("\n")
    .map((line) => line.slice(line.lastIndexOf("\r") + 1).replace(ESCAPE_SEQUENCE, ""))
    .filter((row) => row !== "");

const noPty = !hasCommand("python3");
if (noPty) console.warn("skipping the demo's pseudo-terminal tests: python3 not found");

test("demo at 60 columns: no row wider than 59, shutdown(SHUT_WR) on one row", async () => {
  const { code, screen } = await onSizedTerminal(
    [...DEMO_COMMAND, "tcp", "hello", "world"],
    60,
    [],
  );
  assert.equal(code, 0, screen);
  const rows = terminalRows(screen);
  assert.ok(rows.some((row) => row.includes("| tcp/server.ts")), screen);
  for (const row of rows) assert.ok(displayWidth(row) <= 59, `${displayWidth(row)}: ${row}`);
  const shutdowns = rows.filter((row) => /shutdown|SHUT_WR/.test(row));
  assert.ok(shutdowns.length > 0, screen);
  for (const row of shutdowns) assert.match(row, /shutdown\(SHUT_WR\)/);
}, noPty);

test("demo below 60 columns says once that its rows wrap, a resize after it too", async () => {
  const { code, screen } = await onSizedTerminal([...DEMO_COMMAND, "udp"], 40, [
    { expect: "->" },
    { resize: 50 },
    { expect: "udp/server.ts" }, // the header again: SIGWINCH came
    { type: "hello\n" },
    { expect: 'print "HELLO"' },
    { type: "\x04" },
  ]);
  assert.equal(code, 0, screen);
  const rows = terminalRows(screen);
  assert.equal(rows.filter((row) => row.endsWith("| udp/server.ts")).length, 2, "two headers");
  const said = rows.filter((row) => /columns/.test(row));
  assert.deepEqual(said, ["(40 columns: the rows need 60 and wrap)"]); // within 40 itself
}, noPty);

test("demo after a resize: the rows that follow fit the new width", async () => {
  const narrower = renderHeader(layoutFor(60, "udp"))[0];
  const { code, screen } = await onSizedTerminal([...DEMO_COMMAND, "udp"], 100, [
    { expect: "->" },
    { resize: 60 },
    { expect: narrower }, // the header again, for 60 columns: SIGWINCH came
    { type: "hello\n" },
    { expect: 'print "HELLO"' },
    { type: "\x04" },
  ]);
  assert.equal(code, 0, screen);
  const rows = terminalRows(screen);
  const resizedAt = rows.indexOf(narrower);
  assert.ok(resizedAt > 0, `no header for 60 columns:\n${screen}`);
  assert.ok(displayWidth(rows[0]) > 59, `the first header fits 60 columns: ${rows[0]}`);
  const after = rows.slice(resizedAt + 1);
  assert.ok(after.some((row) => /sendto \|-+ 5 B "hello" -+>\|/.test(row)), screen);
  for (const row of after) assert.ok(displayWidth(row) <= 59, `${displayWidth(row)}: ${row}`);
}, noPty);

test(
  "demo --mermaid at a terminal draws the rows as they come, then the Mermaid text",
  async () => {
    const { code, screen, shownBeforeTyping } = await onSizedTerminal(
      [...DEMO_COMMAND, "udp", "--mermaid"],
      80,
      [{ expect: "->" }, { type: "hello\n" }, { expect: 'print "HELLO"' }, { type: "\x04" }],
    );
    assert.equal(code, 0, screen);
    const beforeCtrlD = shownBeforeTyping[1];
    assert.match(beforeCtrlD, /sendto \|-+ 5 B "hello" -+>\|/, "no row before the end of input");
    assert.match(beforeCtrlD, /print "HELLO" \|/);
    assert.doesNotMatch(beforeCtrlD, /sequenceDiagram/);
    const mermaid = screen.slice(screen.indexOf("sequenceDiagram"));
    assert.ok(screen.includes("sequenceDiagram"), screen);
    assert.match(mermaid, /\n {4}C->>S: sendto 5 B #34;hello#34;\n/);
  },
  noPty,
);

test("demo udp --drop 1 a b c d e f g sends every LINE and says the drops were asked for", async () => {
  // --at-once: the client waits its 2 s for all 7 replies together (the demo sets no --timeout);
  // one after another, 7 LINEs take 14 s. All 7 lost in a row still pass the client's own
  // --give-up of 5, which would end in "is a UDP server running there?".
  const lines = ["a", "b", "c", "d", "e", "f", "g"];
  const { code, stdout, stderr } = await runDemo(["udp", "--drop", "1", "--at-once", ...lines]);
  assert.equal(code, 1, "the client's status: lines got no reply");
  for (const line of lines) assert.match(stdout, new RegExp(`sendto \\|-+ 1 B "${line}" -+>\\|`));
  assert.equal(
    stderr.trimEnd().split("\n").at(-1),
    "demo: the server dropped 7 replies, as --drop 1 asked",
  );
  assert.doesNotMatch(stdout + stderr, /--give-up|is a UDP server running there\?/);
});

test("demo tcp: the client's address once, at accept; the server's log by number", async () => {
  const { code, stdout } = await runDemo(["tcp", "hello"]);
  assert.equal(code, 0, stdout);
  const rows = diagramRows(stdout);
  const [client, server] = [0, 2].map((lane) => rows.map((row) => row.split("|")[lane].trim()));
  const connect = client.findIndex((text) => text.startsWith("socket + connect"));
  const address = client.slice(connect, connect + 2).join(" ").match(/127\.0\.0\.1:\d+/)?.[0];
  assert.ok(address, `no client address at the connect:\n${stdout}`);
  const naming = server.flatMap((text, i) => text.includes(address) ? [i] : []);
  assert.equal(naming.length, 1, `the client's address in the server's lane:\n${stdout}`);
  const accept = server.findIndex((text) => text.startsWith("accept: new socket #1"));
  assert.ok(naming[0] === accept || naming[0] === accept + 1, "named in the accept row");
  assert.ok(server.includes("#1 connected"), stdout);
  assert.ok(server.includes("#1 closed"), stdout);
});
