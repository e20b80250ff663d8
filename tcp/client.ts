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
import { isClosedSocket, isPeerGone } from "../shared/errors.ts";
import { seconds, toggle } from "../shared/options.ts";
import { start } from "../shared/start.ts";
import {
  countLines,
  input,
  lineEndingFilter,
  output,
  readStdin,
  withNewline,
} from "../shared/stdio.ts";
import { traced } from "../shared/trace.ts";

const { host, port, timeout, lineByLine, log, signal } = start({
  path: "tcp/client.ts",
  role: "client",
  summary: "TCP client: sends each line to the server and prints the reply.\n" +
    "Exits 1 when the server fails it, 130 on Ctrl-C, 143 on SIGTERM.",
  flags: {
    timeout: seconds(
      0,
      "give up when the server is silent for SEC while replies are owed (0: wait)",
    ),
    lineByLine: toggle("piped input too: send a line, wait for its reply, then the next"),
  },
});
const server = formatHostPort(host, port);

// sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
// sock.connect(('127.0.0.1', 5005))  — one call in Deno; it fails if no server listens there
const sock = traced(await Deno.connect({ hostname: host, port, transport: "tcp" }));
sock.setNoDelay(true); // a typed line goes out at once, not held back to fill a packet

let linesSent = 0;
let repliesIn = 0;
let inputDone = false;
let silence: ReturnType<typeof setTimeout> | undefined; // --timeout: closes the socket
let timedOut = false;
let open = true;
// data = sock.recv(1024); print(data.decode())  — beside the sending below, not after it: replies
// are printed as they come, a line of any length never waits for its own reply to be read, and a
// server that hangs up is noticed at once, even while we wait at the prompt.
const receiving = receiveReplies();
const stop = AbortSignal.any([signal, receiving.ended]);

try {
  if (Deno.stdin.isTerminal() || lineByLine) {
    // while True:
    //     msg = input("->")  — the prompt shows only on a terminal; Ctrl-D ends the loop
    for await (const msg of input("->", stop)) {
      //   sock.send(msg.encode())  — with "\n" after it: where the line ends
      await send(withNewline(msg));
      //   (the reply is printed by receiveReplies; the next line waits until it is in)
      while (repliesIn < linesSent && !stop.aborted) await receiving.nextRead();
    }
  } else {
    // Beyond the post: piped lines stream out as fast as the server takes them, no round trip
    // per line. "\r\n" goes out as "\n", as typed lines do.
    const endings = lineEndingFilter();
    const buffer = new Uint8Array(64 * 1024);
    let count;
    // (The end of the input is looked for before stopping, so "not sent" below is exact.)
    while ((count = await readStdin(buffer)) !== null && !stop.aborted) {
      await send(endings.push(buffer.subarray(0, count)));
    }
    if (!endings.atLineStart) await send(withNewline()); // the last line, too
    inputDone = count === null;
  }
  inputDone ||= !stop.aborted;
  // shutdown(SHUT_WR): no more lines. The server sees the end once it has read them all.
  if (inputDone) await sock.closeWrite();
  if (repliesIn < linesSent) await receiving.done;
} catch (error) {
  // A write failed: the server went away while we sent (or --timeout closed the socket). The
  // reader sees why; that is what is reported below.
  if (!(isClosedSocket(error) || isPeerGone(error))) throw error;
  await receiving.done;
}

// sock.close()
clearTimeout(silence);
closeSocket();
await receiving.done; // a failure to print the replies ends the script here
const answered = linesSent === 0
  ? "before a line was sent"
  : `${repliesIn} of ${linesSent} line(s) answered`;
if (signal.aborted) {
  if (repliesIn < linesSent) log.error(`interrupted: ${answered}`);
  Deno.exit(signal.reason);
}
const unsent = inputDone || Deno.stdin.isTerminal() ? "" : "; the rest of the input was not sent";
if (timedOut) log.error(`no reply from ${server} within ${timeout} s (${answered})`);
else if (receiving.failure) {
  const hint = lineByLine ? "" : "; a server that decodes each read on its own, like the " +
    "post's, may need --line-by-line";
  log.error(`the server at ${server} reset the connection (${answered}${unsent})${hint}`);
} else if (receiving.ended.aborted) {
  log.error(`the server at ${server} closed the connection (${answered}${unsent})`);
}
Deno.exit(timedOut || receiving.ended.aborted ? 1 : 0);

/** sock.send for all of `bytes`: like send(), Deno's write may take only part of them. */
async function send(bytes: Uint8Array): Promise<void> {
  if (repliesIn >= linesSent) startSilence();
  linesSent += countLines(bytes);
  for (let sent = 0; sent < bytes.length;) sent += await sock.write(bytes.subarray(sent));
}

/** --timeout: while replies are owed, a silence this long closes the socket, ending the read. */
function startSilence(): void {
  clearTimeout(silence);
  if (timeout > 0) silence = setTimeout(() => (timedOut = true, closeSocket()), timeout * 1000);
}

function closeSocket(): void {
  if (open) sock.close();
  open = false;
}

/**
 * Reads and prints replies until the input is done and every line is answered, or the server
 * ends the connection (`ended` aborts then; a reset is kept as `failure`).
 */
function receiveReplies() {
  const ended = new AbortController();
  let wake = () => {};
  const state = {
    ended: ended.signal,
    failure: undefined as unknown,
    nextRead: () => new Promise<void>((resolve) => wake = resolve),
    done: Promise.resolve(),
  };
  state.done = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (!(inputDone && repliesIn >= linesSent)) {
        // data = sock.recv(1024)  — null once the server closed its side
        const count = await sock.read(buffer);
        if (count === null) break;
        const data = buffer.subarray(0, count);
        repliesIn += countLines(data); // a reply is in once its "\n" is
        if (repliesIn < linesSent) startSilence();
        else clearTimeout(silence);
        // print(data.decode())  — the bytes as they come, "\n" included
        await output(data);
        wake();
      }
    } catch (error) {
      if (isPeerGone(error)) state.failure = error; // a reset
      else if (!isClosedSocket(error)) { // stdout failed: stop sending too, then say why
        ended.abort();
        closeSocket();
        throw error;
      }
    }
    if (!(inputDone && repliesIn >= linesSent)) ended.abort();
    wake();
  })();
  return state;
}
