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
import { once } from "node:events";
import { formatHostPort } from "../shared/address.ts";
import { isClosedSocket, isPeerGone } from "../shared/errors.ts";
import { seconds, toggle } from "../shared/flags.ts";
import { start } from "../shared/start.ts";
import * as stdio from "../shared/stdio.ts";
import { traced } from "../shared/trace.ts";
import { countLines, withNewline } from "./lines.ts";

const { host, port, recvSize, timeout, lineByLine, log, signal } = start({
  path: "tcp/client.ts",
  role: "client",
  summary: "TCP client: sends each line to the server and prints the reply.",
  flags: {
    timeout: seconds(0, "give up when a reply is owed and the server is silent; 0: wait"),
    lineByLine: toggle("piped input too: send a line, wait for its reply, then the next"),
  },
});

let linesSent = 0; // counted by send() alone
let repliesIn = 0; // counted by printReplies() alone: a reply is in at its "\n"
const readSome = new EventTarget(); // printReplies() says "read" here after each read

// sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
// sock.connect(('127.0.0.1', 5005))  — one call in Deno; it fails if no server listens there
const sock = traced(
  await Deno.connect({ hostname: host, port, transport: "tcp", signal }).catch((error) => {
    if (signal.aborted) Deno.exit(signal.reason); // Ctrl-C while it waited for the server
    throw error;
  }),
);
sock.setNoDelay(true); // a typed line goes out at once, not held back to fill a packet
signal.addEventListener("abort", () => sock[Symbol.dispose]()); // sock.close(): the waits end
// data = sock.recv(1024); print(data.decode())  — beside the sending below, not after it: a line
// of any length never waits on its own reply, and a server that hangs up is seen at once.
const replies = printReplies();
const repliesEnded = new AbortController();
replies.finally(() => repliesEnded.abort()).catch(() => {}); // (a failure is told at the end)
const stop = AbortSignal.any([signal, repliesEnded.signal]);

const sending = await sendLines();
// sock.close()  — now, if every line is answered or --timeout gave up; else once the reader has
//                 said how the replies ended (Symbol.dispose: a close() that skips a closed one)
if (sending === "answered" || sending === "timeout") sock[Symbol.dispose]();
const ended = await replies; // a failure to print the replies ends the script here
sock[Symbol.dispose]();
const sent = linesSent ? `${repliesIn} of ${linesSent} line(s) answered` : "before a line was sent";
const answered = sent + (sending === "unsent" ? "; the rest of the input was not sent" : "");
const server = formatHostPort(host, port);
if (signal.aborted) {
  if (repliesIn < linesSent) log.error(`interrupted: ${answered}`);
} else if (sending === "timeout") {
  log.error(`no reply from ${server} within ${timeout} s (${answered})`);
} else if (sending !== "answered") {
  // The post's server decodes each read and falls on a character cut between two; sent one at a
  // time, lines under its 1,024-byte read come whole.
  const hint = ended === "reset" && !lineByLine
    ? "; for a server like the post's, try --line-by-line (short lines)"
    : "";
  log.error(`the server at ${server} ${ended} the connection (${answered})${hint}`);
}
Deno.exit(signal.aborted ? signal.reason : sending === "answered" ? 0 : 1);

/** The post's loop, and the end of input: how it ended, with every line answered or not. */
async function sendLines(): Promise<"answered" | "timeout" | "stopped" | "unsent"> {
  try {
    if (Deno.stdin.isTerminal() || lineByLine) {
      // while True:
      //     msg = input("->")  — the prompt shows only on a terminal; Ctrl-D ends the loop
      for await (const msg of stdio.input("->", stop)) {
        //   sock.send(msg.encode())  — with "\n" after it: where the line ends
        await send(withNewline(msg));
        const waited = await allAnswered(); //   (printReplies prints the reply: wait for it)
        if (waited !== "answered") return waited;
      }
    } else {
      // Beyond the post: piped lines stream out, no round trip per line ("\r\n" goes out as "\n").
      const [endings, buffer] = [stdio.lineEndingFilter(), new Uint8Array(64 * 1024)];
      for (let count; (count = await stdio.readStdin(buffer, stop)) !== null;) {
        if (stop.aborted) return "unsent";
        await send(endings.push(buffer.subarray(0, count)));
      }
      if (!endings.atLineStart && !stop.aborted) await send(withNewline()); // the last line
    }
    if (stop.aborted) return "stopped";
    // shutdown(SHUT_WR): no more lines. The server sees the end once it has read them all.
    await sock.closeWrite();
    return await allAnswered();
  } catch (error) {
    // A write failed: the server went away (printReplies says how), or Ctrl-C closed the socket.
    if (isClosedSocket(error) || isPeerGone(error)) return "stopped";
    throw error;
  }
}

/** sock.send for all of `bytes`: like send(), Deno's write may take only part of them. */
async function send(bytes: Uint8Array): Promise<void> {
  linesSent += countLines(bytes);
  for (let sent = 0; sent < bytes.length;) sent += await sock.write(bytes.subarray(sent));
}

/** Waits until every line sent is answered, unless --timeout passes with no read, or `stop`. */
async function allAnswered(): Promise<"answered" | "timeout" | "stopped"> {
  while (repliesIn < linesSent) {
    const silence = timeout > 0 ? [AbortSignal.timeout(timeout * 1000)] : [];
    try {
      await once(readSome, "read", { signal: AbortSignal.any([stop, ...silence]) });
    } catch {
      return stop.aborted ? "stopped" : "timeout";
    }
  }
  return "answered";
}

/** Reads and prints the server's bytes as they come, until it closes: how the replies ended. */
async function printReplies(): Promise<"closed" | "reset" | "stopped"> {
  const buffer = new Uint8Array(recvSize);
  try {
    // data = sock.recv(1024)  — null once the server closed its side
    for (let count; (count = await sock.read(buffer)) !== null;) {
      // print(data.decode())  — the bytes as they come, "\n" included
      stdio.print(buffer.subarray(0, count), "");
      repliesIn += countLines(buffer.subarray(0, count));
      readSome.dispatchEvent(new Event("read"));
    }
    return "closed";
  } catch (error) {
    if (isPeerGone(error)) return "reset";
    if (isClosedSocket(error)) return "stopped"; // by us: Ctrl-C, --timeout, or all answered
    sock[Symbol.dispose](); // stdout failed: no more lines to send either
    throw error;
  }
}
