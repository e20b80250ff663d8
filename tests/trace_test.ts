/**
 * `--trace`: one line per socket operation, named after the tutorial's Python calls, for each
 * of the four scripts in a scripted session; never wider than 100 columns.
 */
import assert from "node:assert/strict";
import { displayWidth, preview } from "../shared/trace.ts";
import {
  concat,
  connect,
  decode,
  encode,
  pythonResets,
  readBytes,
  readToEnd,
  runScript,
  startServer,
  test,
  udpSocket,
  writeAll,
} from "./helpers.ts";

/** The trace lines in `stderr`, without the log lines around them. */
function traceLines(stderr: string, script: string): string[] {
  const pattern = new RegExp(
    `^\\[${script}\\] (socket|bind|accept|recv|send|connect|close|shutdown)`,
  );
  return stderr.split("\n").filter((line) => pattern.test(line));
}

/** Every pattern matches a line, in this order (other lines may come between). */
function assertInOrder(lines: string[], patterns: RegExp[]) {
  let at = 0;
  for (const pattern of patterns) {
    while (at < lines.length && !pattern.test(lines[at])) at++;
    assert.ok(at < lines.length, `no line matching ${pattern} in order:\n${lines.join("\n")}`);
    at++;
  }
}

function assertWithinWidth(lines: string[]) {
  for (const line of lines) {
    assert.ok(displayWidth(line) <= 100, `${displayWidth(line)} columns: ${line}`);
  }
}

Deno.test("preview escapes bytes that are not text and cuts long payloads", () => {
  assert.equal(preview(encode("hello"), 40), '"hello"');
  assert.equal(preview(new Uint8Array([0x61, 0xff, 0x0a, 0x09, 0x00]), 40), '"a\\xff\\n\\t\\x00"');
  assert.equal(preview(encode('say "hi" \\'), 40), '"say \\"hi\\" \\\\"');
  assert.equal(preview(encode("안녕"), 40), '"안녕"');
  assert.equal(preview(new Uint8Array([0xed, 0xa0, 0x80]), 40), '"\\xed\\xa0\\x80"'); // a surrogate
  // A read cut inside a character: only the cut-off bytes are escaped, the text stays text.
  assert.equal(preview(encode("안녕").subarray(1), 40), '"\\x95\\x88녕"');
  assert.equal(preview(concat([encode("안 "), new Uint8Array([0xff])]), 40), '"안 \\xff"');
  const cut = preview(encode("abcdefghij".repeat(10)), 20);
  assert.equal(cut, '"abcdefghijabcdefg…"'); // "…" takes one column, as terminals draw it
  assert.ok(displayWidth(preview(encode("한".repeat(100)), 21)) <= 21);
});

test("udp/server and udp/client --trace show socket, sendto and recvfrom", async () => {
  await using server = await startServer("udp/server.ts", ["--trace"]);
  const args = ["--port", `${server.port}`, "--trace"];
  const client = await runScript("udp/client.ts", args, "hello\n\xff!\n");
  assert.equal(client.code, 0);
  const clientLines = traceLines(client.stderr, "udp/client");
  // A socket per line, bound to loopback: --allow-net=127.0.0.1 is all the client needs.
  // Piped lines are on their way together, so each socket's own lines are in order.
  const sockets = clientLines.filter((line) => line.includes("socket+bind"))
    .map((line) => line.match(/127\.0\.0\.1:(\d+)/)![1]);
  assert.equal(sockets.length, 2, clientLines.join("\n"));
  const ofSocket = (port: string) =>
    clientLines.filter((line) => line.includes(`:${port} `) || !/socket|close/.test(line));
  assertInOrder(ofSocket(sockets[0]), [
    /socket\+bind +127\.0\.0\.1:\d+ +\(Deno\.listenDatagram\)$/,
    /sendto +127\.0\.0\.1:\d+ <- 5 B "hello" +\(send\)$/,
    /recvfrom +127\.0\.0\.1:\d+ -> 5 B "HELLO" +\(receive\)$/,
    /close +127\.0\.0\.1:\d+ +\(close\)$/,
  ]);
  assertInOrder(ofSocket(sockets[1]), [
    /socket\+bind +127\.0\.0\.1:\d+ +\(Deno\.listenDatagram\)$/,
    /sendto +127\.0\.0\.1:\d+ <- 3 B "ÿ!"/, // U+00FF typed as text, two bytes
    /close +127\.0\.0\.1:\d+ +\(close\)$/,
  ]);
  // The server's trace comes through a pipe: wait for its last expected line.
  await server.waitForLog(/sendto +127\.0\.0\.1:\d+ <- 3 B/);
  const serverLines = traceLines(server.stderr(), "udp/server");
  assertInOrder(serverLines, [
    new RegExp(`socket\\+bind +127\\.0\\.0\\.1:${server.port} +\\(Deno\\.listenDatagram\\)$`),
    /recvfrom +127\.0\.0\.1:\d+ -> 5 B "hello" +\(receive\)$/,
    /sendto +127\.0\.0\.1:\d+ <- 5 B "HELLO" +\(send\)$/,
  ]);
  assertWithinWidth([...clientLines, ...serverLines]);
});

test("udp/client --trace shows a reply that never came", async () => {
  using silent = udpSocket();
  const args = ["--port", `${silent.port}`, "--timeout", "0.2", "--trace"];
  const client = await runScript("udp/client.ts", args, "lost\n");
  assert.equal(client.code, 1);
  assertInOrder(client.stderr.split("\n"), [
    /sendto .* "lost"/,
    /recvfrom +127\.0\.0\.1:\d+ no reply within 0\.2 s/,
  ]);
});

test("a 65,507-byte datagram's trace line is cut to the width, with its size", async () => {
  await using server = await startServer("udp/server.ts", ["--trace"]);
  using socket = udpSocket();
  await socket.roundTrip(encode("가".repeat(21_835) + "ab"), server.port); // 65,507 bytes
  await server.waitForLog(/sendto +127\.0\.0\.1:\d+ <- 65,507 B/);
  const lines = traceLines(server.stderr(), "udp/server");
  const received = lines.find((line) => line.includes("recvfrom"))!;
  assert.match(received, /-> 65,507 B "가+…" +\(receive\)$/);
  assertWithinWidth(lines);
});

test("tcp/server and tcp/client --trace show connect, accept, send, recv and close", async () => {
  await using server = await startServer("tcp/server.ts", ["--trace"]);
  const args = ["--port", `${server.port}`, "--trace"];
  const client = await runScript("tcp/client.ts", args, "hello\n안녕\n");
  assert.equal(decode(client.stdout), "HELLO\n안녕\n");
  const clientLines = traceLines(client.stderr, "tcp/client");
  // Piped lines stream out together, each ended by "\n", then the client half-closes; the
  // replies are read meanwhile, in one read or more: TCP has no message boundaries.
  const connect = /connect +#1 127\.0\.0\.1:\d+ +\(Deno\.connect\)$/;
  const send = /send +#1 <- 13 B "hello\\n안녕\\n" +\(write\)$/;
  const close = /close +#1 +\(close\)$/;
  assertInOrder(clientLines, [
    connect,
    send,
    /shutdown +#1 \(SHUT_WR: nothing more to send\) +\(closeWrite\)$/,
    close,
  ]);
  assertInOrder(clientLines, [connect, send, /recv +#1 -> \d+ B "HELLO\\n/, close]);
  await server.waitForLog(/close +#1 +\(close\)$/);
  const serverLines = traceLines(server.stderr(), "tcp/server");
  assertInOrder(serverLines, [
    /bind\+listen +127\.0\.0\.1:\d+ +\(Deno\.listen\)$/,
    /accept +#1 127\.0\.0\.1:\d+ +\(listener\.accept\)$/,
    /recv +#1 -> \d+ B "hello/,
    /send +#1 <- \d+ B "HELLO/,
    /recv +#1 -> 0 B \(the peer closed its side\)/,
    /close +#1 +\(close\)$/,
  ]);
  assertWithinWidth([...clientLines, ...serverLines]);
});

test("tcp/server --trace shows a message in several reads and several in one", async () => {
  await using server = await startServer("tcp/server.ts", ["--trace"]);
  using conn = await connect(server.port);
  await writeAll(conn, encode("hel"));
  assert.equal(decode(await readBytes(conn, 3)), "HEL");
  await writeAll(conn, encode("lo\n"));
  assert.equal(decode(await readBytes(conn, 3)), "LO\n");
  await writeAll(conn, encode("one\ntwo\n"));
  assert.equal(decode(await readBytes(conn, 8)), "ONE\nTWO\n");
  await conn.closeWrite(); // a half-close: the server still answers, then closes
  await readToEnd(conn);
  await server.waitForLog(/close +#1/);
  assertInOrder(traceLines(server.stderr(), "tcp/server"), [
    /recv +#1 -> 3 B "hel"/,
    /recv +#1 -> 3 B "lo\\n"/,
    /recv +#1 -> 8 B "one\\ntwo\\n"/,
    /recv +#1 -> 0 B \(the peer closed its side\)/,
    /close +#1/,
  ]);
});

test("tcp/server --trace shows a reset and keeps tracing the next client", async () => {
  await using server = await startServer("tcp/server.ts", ["--trace"]);
  // A client that sends, waits for the reply, and resets.
  await pythonResets(["client", `${server.port}`, "1", "reset me"]);
  await server.waitForLog(/reset the connection/);
  const result = await runScript("tcp/client.ts", ["--port", `${server.port}`], "after\n");
  assert.equal(decode(result.stdout), "AFTER\n");
  await server.waitForLog(/recv +#2 -> 6 B "after\\n"/);
  assertInOrder(server.stderr().split("\n"), [
    /accept +#1/,
    /recv +#1 -> 8 B "reset me"/,
    /send +#1 <- 8 B "RESET ME"/,
    /reset the connection/,
    /close +#1/,
    /accept +#2/,
    /recv +#2 -> 6 B "after\\n"/,
  ]);
});

test("without --trace nothing is traced", async () => {
  await using server = await startServer("tcp/server.ts");
  const result = await runScript("tcp/client.ts", ["--port", `${server.port}`], "quiet\n");
  assert.equal(result.stderr, "");
  await server.stop();
  assert.deepEqual(traceLines(server.stderr(), "tcp/server"), []);
});
