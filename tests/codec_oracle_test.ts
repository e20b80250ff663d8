/**
 * The codec against its reference, Python itself: a corpus of every code point Python knows,
 * mixed scripts and invalid byte sequences, upper-cased by `oracle.py` with
 * `decode("utf-8", "surrogateescape").upper().encode("utf-8", "surrogateescape")`, compared
 * byte for byte in-process, through random splits, over UDP and over TCP.
 *
 * Python's Unicode tables can be older than V8's (Python 3.11 has Unicode 14, Deno's V8 has
 * 16). A code point whose upper case V8 knows but Python does not (ƛ → U+A7DC, added in
 * Unicode 16) cannot agree, so such code points are left out of the corpus, and listed.
 */
import assert from "node:assert/strict";
import { upperCase, upperCaseStream } from "../shared/codec.ts";
import {
  concat,
  connect,
  randomSource,
  readToEnd,
  ROOT,
  startServer,
  test,
  udpSocket,
  withinOrFail,
  writeAll,
} from "./helpers.ts";

const ORACLE = `${ROOT}tests/fixtures/oracle.py`;

async function python(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("python3", { args: [ORACLE, ...args] })
    .output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}

/** Code points whose V8 upper case contains a code point Python's tables do not have. */
function newerThanPython(known: Set<number>): number[] {
  const skip: number[] = [];
  for (const codePoint of known) {
    const upper = String.fromCodePoint(codePoint).toUpperCase();
    if ([...upper].some((c) => !known.has(c.codePointAt(0)!))) skip.push(codePoint);
  }
  return skip;
}

interface Corpus {
  input: Uint8Array;
  expected: Uint8Array;
  skipped: number[];
}

let corpus: Corpus | undefined;

async function loadCorpus(): Promise<Corpus> {
  if (corpus) return corpus;
  const known = new Set<number>();
  for (const [first, last] of JSON.parse(await python(["known"])) as [number, number][]) {
    for (let c = first; c <= last; c++) known.add(c);
  }
  const skipped = newerThanPython(known);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/skip.json`, JSON.stringify(skipped));
    await python(["corpus", `${dir}/skip.json`, `${dir}/in`, `${dir}/out`]);
    corpus = {
      input: await Deno.readFile(`${dir}/in`),
      expected: await Deno.readFile(`${dir}/out`),
      skipped,
    };
    return corpus;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

test("the codec gives Python's bytes for every code point Python knows", async () => {
  const { input, expected, skipped } = await loadCorpus();
  // Only the handful that Unicode 15-16 gave a new upper case may be skipped.
  assert.ok(skipped.length < 20, `skipped ${skipped.length} code points`);
  console.log(
    `not compared with Python (expected: V8 knows a newer Unicode, where these got an upper case): ${
      skipped.map((c) => "U+" + c.toString(16).toUpperCase().padStart(4, "0")).join(" ")
    }`,
  );
  assert.ok(input.length > 1_000_000);
  assert.deepEqual(upperCase(input), expected);
});

test("the codec gives Python's bytes when the corpus arrives in random pieces", async () => {
  const { input, expected } = await loadCorpus();
  const random = randomSource(11);
  const stream = upperCaseStream();
  const parts: Uint8Array[] = [];
  for (let at = 0; at < input.length;) {
    const size = 1 + random(random(2) ? 8 : 5000);
    parts.push(stream.upperCaseInPlace(input.slice(at, at + size))); // the corpus stays as it is
    at += size;
  }
  parts.push(stream.flush());
  assert.deepEqual(concat(parts), expected);
});

test("udp/server gives Python's bytes for the corpus, one line per datagram", async () => {
  const { input, expected } = await loadCorpus();
  await using server = await startServer("udp/server.ts");
  using socket = udpSocket();
  const replies: Uint8Array[] = [];
  let start = 0;
  while (start < input.length) {
    const end = input.indexOf(0x0a, start) + 1; // every line ends with \n
    const reply = await socket.roundTrip(input.subarray(start, end), server.port);
    replies.push(reply.slice());
    start = end;
  }
  assert.deepEqual(concat(replies), expected);
});

test("tcp/server gives Python's bytes for the corpus sent in random-sized writes", async () => {
  const { input, expected } = await loadCorpus();
  await using server = await startServer("tcp/server.ts");
  using conn = await connect(server.port);
  const reading = readToEnd(conn);
  const random = randomSource(5);
  for (let at = 0; at < input.length;) {
    const size = 1 + random(20_000);
    await writeAll(conn, input.subarray(at, at + size));
    at += size;
  }
  await conn.closeWrite();
  assert.deepEqual(await withinOrFail(reading, 30_000, "reply incomplete"), expected);
});
