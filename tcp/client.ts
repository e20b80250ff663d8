/**
 * TCP client from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno: connect,
 * then for each line: send it, print the server's reply. Type lines at the `->` prompt and end
 * with Ctrl-D, or pipe them in:
 *
 *   printf 'hello\nworld\n' | deno run --allow-net=127.0.0.1 tcp/client.ts [--port 5005]
 *
 * TCP is a byte stream with no message boundaries: a `recv` may return part of a reply, or parts
 * of two. Ours ends every line it sends with `\n`, and a reply ends at its `\n`: the protocol of
 * any server that sends back what it gets, changed or not: ours, the post's, nc, socat.
 *
 * @module
 */
// import socket
import { formatHostPort } from "../shared/address.ts";
import { isClosedSocket, isPeerGone } from "../shared/errors.ts";
import { seconds, toggle } from "../shared/flags.ts";
import { start } from "../shared/start.ts";
import * as stdio from "../shared/stdio.ts";
import { traced } from "../shared/trace.ts";

const { host, port, timeout, lineByLine, log, signal } = start({
  path: "tcp/client.ts",
  role: "client",
  summary: "TCP client: sends each line to the server and prints the reply.",
  flags: {
    timeout: seconds(0, "give up when a reply is owed and the server is silent; 0: wait"),
    lineByLine: toggle("piped input too: send a line, wait for its reply, then the next"),
  },
});

// sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
// sock.connect(('127.0.0.1', 5005))  — one call in Deno; it fails if no server listens there
const sock = traced(await Deno.connect({ hostname: host, port, transport: "tcp" }));
sock.setNoDelay(true); // a typed line goes out at once, not held back to fill a packet

let linesSent = 0;
let repliesIn = 0;
let inputDone = false;
let unsent = false; // input was read, but the server had gone before it could be sent
let ended = ""; // why the replies stopped before every line was answered
let hint = ""; // what to try, after the count of answered lines
let silence: ReturnType<typeof setTimeout> | undefined; // --timeout's timer: closes the socket
let open = true;
let replyIn = () => {}; // wakes the sending loop when it waits for a reply
const serverGone = new AbortController(); // it closed or reset the connection before the end
// data = sock.recv(1024); print(data.decode())  — beside the sending below, not after it: a line
// of any length never waits on its own reply, and a server that hangs up is seen at once.
const receiving = receiveReplies();
const stop = AbortSignal.any([signal, serverGone.signal]);
signal.addEventListener("abort", closeSocket); // sock.close() on Ctrl-C: a waiting read ends

try {
  if (Deno.stdin.isTerminal() || lineByLine) {
    // while True:
    //     msg = input("->")  — the prompt shows only on a terminal; Ctrl-D ends the loop
    for await (const msg of stdio.input("->", stop)) {
      //   sock.send(msg.encode())  — with "\n" after it: where the line ends
      await send(stdio.withNewline(msg));
      //   (receiveReplies prints the reply; the next line waits until it is in)
      while (repliesIn < linesSent && !stop.aborted) await new Promise<void>((r) => replyIn = r);
    }
  } else {
    // Beyond the post: piped lines stream out, no round trip per line ("\r\n" goes out as "\n").
    const [endings, buffer] = [stdio.lineEndingFilter(), new Uint8Array(64 * 1024)];
    for (let count; (count = await stdio.readStdin(buffer, stop)) !== null;) {
      if (stop.aborted) unsent = true;
      else await send(endings.push(buffer.subarray(0, count)));
    }
    if (!endings.atLineStart && !stop.aborted) await send(stdio.withNewline()); // the last line
  }
  inputDone = !stop.aborted;
  // shutdown(SHUT_WR): no more lines. The server sees the end once it has read them all.
  if (inputDone) await sock.closeWrite();
  if (repliesIn < linesSent) await receiving;
} catch (error) {
  // A write failed: the server went away, or --timeout closed the socket; the reader says how.
  if (!isClosedSocket(error) && !isPeerGone(error)) throw error;
}

// sock.close()
closeSocket();
await receiving; // a failure to print the replies ends the script here
const sent = linesSent ? `${repliesIn} of ${linesSent} line(s) answered` : "before a line was sent";
const answered = sent + (unsent ? "; the rest of the input was not sent" : "");
if (signal.aborted) {
  if (repliesIn < linesSent) log.error(`interrupted: ${answered}`);
} else if (ended) log.error(`${ended} (${answered})${hint}`);
Deno.exit(signal.aborted ? signal.reason : ended ? 1 : 0);

/** Reads and prints replies until every line is answered after the input's end. */
async function receiveReplies(): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  let why = "closed the connection";
  try {
    while (!(inputDone && repliesIn >= linesSent)) {
      // data = sock.recv(1024)  — null once the server closed its side
      const count = await sock.read(buffer);
      if (count === null) break;
      repliesIn += stdio.countLines(buffer.subarray(0, count)); // a reply is in at its "\n"
      restartSilence();
      // print(data.decode())  — the bytes as they come, "\n" included
      stdio.print(buffer.subarray(0, count), "");
      replyIn();
    }
  } catch (error) {
    if (isPeerGone(error)) {
      why = "reset the connection";
      // The post's server decodes each read and falls on a character cut between two; sent one
      // at a time, lines under its 1,024-byte read come whole.
      if (!lineByLine) hint = "; for a server like the post's, try --line-by-line (short lines)";
    } else if (!isClosedSocket(error)) { // stdout failed: stop sending, then say why
      closeSocket();
      throw error;
    }
  }
  if (!(inputDone && repliesIn >= linesSent)) {
    ended ||= `the server at ${formatHostPort(host, port)} ${why}`; // unless --timeout came first
    serverGone.abort();
  }
  replyIn();
}

/** sock.send for all of `bytes`: like send(), Deno's write may take only part of them. */
async function send(bytes: Uint8Array): Promise<void> {
  const owed = repliesIn < linesSent;
  linesSent += stdio.countLines(bytes);
  if (!owed) restartSilence(); // the clock starts with the first line owed a reply
  for (let sent = 0; sent < bytes.length;) sent += await sock.write(bytes.subarray(sent));
}

/** --timeout: while a reply is owed, this much silence from the server closes the socket. */
function restartSilence(): void {
  clearTimeout(silence);
  if (timeout > 0 && repliesIn < linesSent) {
    silence = setTimeout(() => {
      ended = `no reply from ${formatHostPort(host, port)} within ${timeout} s`;
      closeSocket();
    }, timeout * 1000);
  }
}

function closeSocket(): void {
  clearTimeout(silence);
  if (open) sock.close();
  open = false;
}
