/**
 * TCP client from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * connect, then for each line: send it, print the server's reply.
 *
 *   deno run --allow-net=127.0.0.1 tcp/client.ts [--host 127.0.0.1] [--port 5005]
 *
 * Type lines at the `->` prompt and end with Ctrl-D, or pipe them in:
 *   printf 'hello\nworld\n' | deno run --allow-net=127.0.0.1 tcp/client.ts
 *
 * TCP is a byte stream with no message boundaries: one `recv` may return part of a reply, or
 * parts of two. The post's client assumes one `recv` is one reply; ours ends every line it
 * sends with `\n`, and a reply ends at its `\n`. That is the whole protocol, and it works with
 * any server that sends back what it gets, changed or not: ours, the post's, nc, socat.
 *
 * @module
 */
// import socket
import { formatHostPort } from "../shared/address.ts";
import { countLines, lineEndingFilter, NEWLINE } from "../shared/lines.ts";
import { start } from "../shared/start.ts";
import { input, output } from "../shared/stdio.ts";
import { traced } from "../shared/trace.ts";

const { host, port, timeout, lineByLine } = start({
  script: "tcp/client.ts",
  role: "client",
  flags: ["timeout", "lineByLine"],
  overrides: {
    timeout: { fallback: 0, help: "give up when a reply takes longer than SEC (default: wait)" },
  },
}, "TCP client: sends each line to the server and prints the reply.");
const server = formatHostPort(host, port);

// sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
// sock.connect(('127.0.0.1', 5005))  — one call in Deno; it fails if no server listens there
const sock = traced(await Deno.connect({ hostname: host, port, transport: "tcp" }));
sock.setNoDelay(true); // a typed line goes out at once, not held back to fill a packet

let open = true;
let linesSent = 0;
let repliesIn = 0;
let waitingSince = 0; // when we last heard from the server while replies were owed
const watchdog = timeout > 0 ? setInterval(checkReplyTime, Math.min(250, timeout * 250)) : 0;

// At a terminal: one line, one reply, as in the post. Piped: lines stream out while replies
// stream in, so a long file does not pay one round trip per line (--line-by-line: as typed).
if (Deno.stdin.isTerminal() || lineByLine) await oneLineAtATime();
else await streamLines();

// sock.close()
clearInterval(watchdog);
closeSocket();

async function oneLineAtATime(): Promise<void> {
  // while True:
  //     msg = input("->")  — the prompt shows only on a terminal; Ctrl-D ends the loop
  for await (const msg of input("->")) {
    //   sock.send(msg.encode())  — with "\n" after it: where the line ends
    const line = new Uint8Array(msg.length + 1);
    line.set(msg);
    line[msg.length] = NEWLINE;
    await send(line);
    //   data = sock.recv(1024); print(data.decode())
    await receiveReplies(() => repliesIn >= linesSent);
  }
}

/** Reads and prints replies until `enough()`: each ends at its "\n", however many reads it takes. */
async function receiveReplies(enough: () => boolean): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  while (!enough()) {
    // data = sock.recv(1024)  — null once the server closed its side
    const count = await sock.read(buffer);
    if (count === null) throw hungUp();
    heard();
    const data = buffer.subarray(0, count);
    repliesIn += countLines(data); // a reply is in once its "\n" is
    // print(data.decode())  — the bytes as they come, "\n" included
    await output(data);
  }
}

async function streamLines(): Promise<void> {
  let inputDone = false;
  const sending = (async () => {
    const endings = lineEndingFilter(); // "\r\n" goes out as "\n", as typed lines do
    const buffer = new Uint8Array(64 * 1024);
    for (let count; (count = await Deno.stdin.read(buffer)) !== null;) {
      await send(endings.push(buffer.subarray(0, count)));
    }
    if (!endings.atLineStart) await send(new Uint8Array([NEWLINE])); // the last line, too
    inputDone = true;
    // shutdown(SHUT_WR): no more lines. The server sees the end once it has read them all.
    await sock.closeWrite();
    if (repliesIn >= linesSent) closeSocket(); // all answered: end the read below at once
  })();
  sending.catch(() => {}); // its failure is reported below, unless the server hung up first
  const allIn = () => inputDone && repliesIn >= linesSent;
  try {
    await receiveReplies(allIn);
  } catch (error) {
    if (!allIn()) throw error; // else: the sender closed the socket, all replies in
  }
  await sending;
}

/** sock.send for all of `bytes`: like send(), Deno's write may take only part of them. */
async function send(bytes: Uint8Array): Promise<void> {
  if (repliesIn >= linesSent) waitingSince = Date.now(); // the clock starts now
  linesSent += countLines(bytes);
  for (let sent = 0; sent < bytes.length;) sent += await sock.write(bytes.subarray(sent));
}

function closeSocket(): void {
  if (open) sock.close();
  open = false;
}

function heard(): void {
  waitingSince = Date.now();
}

/** --timeout: one line and exit 1 when replies are owed and the server has been silent. */
function checkReplyTime(): void {
  if (repliesIn >= linesSent || Date.now() - waitingSince < timeout * 1000) return;
  throw new Error(
    `no reply from ${server} within ${timeout} s (${repliesIn} of ${linesSent} lines answered)`,
  );
}

function hungUp(): Error {
  const when = linesSent === 0
    ? "before a line was sent"
    : `after ${repliesIn} of ${linesSent} replies`;
  return new Error(`the server at ${server} closed the connection ${when}`);
}
