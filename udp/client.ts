/**
 * UDP client from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno: read a
 * line, send it as one datagram, print the server's reply. Type lines at the `->` prompt and end
 * with Ctrl-D, or pipe them in:
 *
 *   printf 'hello\nworld\n' | deno run --allow-net=127.0.0.1 udp/client.ts [--port 5005]
 *
 * @module
 */
// import socket
import * as address from "../shared/address.ts";
import { describePeerError, isClosedSocket, isTooLongForDatagram } from "../shared/errors.ts";
import { seconds, wholeNumber } from "../shared/flags.ts";
import { start } from "../shared/start.ts";
import { input, print } from "../shared/stdio.ts";
import { trace, traced } from "../shared/trace.ts";

const { host, port, timeout, giveUp, log, signal } = start({
  path: "udp/client.ts",
  role: "client",
  summary: "UDP client: sends each line as a datagram and prints the reply.",
  datagrams: true,
  bindAddressFor: address.clientBindAddress,
  flags: {
    timeout: seconds(2, "how long to wait for each reply", 0.001),
    giveUp: wholeNumber(5, "piped input: stop after N lines in a row get no reply"),
  },
});
const server = { hostname: host, port, transport: "udp" } as const;
const bindAddress = address.clientBindAddress(host); // 127.0.0.1 for a server on this machine
// At a terminal, one line at a time, as in the post. Piped (beyond the post), up to 32 lines are
// on their way at once, each on its own socket; each reply is printed once those before it are.
const window = Deno.stdin.isTerminal() ? 1 : 32;
const printed: Promise<void>[] = []; // the replies on their way, in input order
const buffers: Uint8Array[] = []; // 64 KiB each, reused: recvfrom(2048) would cut longer replies
let lines = 0; // read from the input
let unsent = 0; // too long for a datagram
let answered = 0;
let lost = 0; // no reply within --timeout
let lostInARow = 0;
const gaveUp = () => lostInARow >= giveUp && window > 1; // piped, and no server there, it seems

// while True:
//     msg = input("->")  — the prompt shows only on a terminal; Ctrl-D ends the loop
for await (const msg of input("->", signal)) {
  const line = ++lines;
  const reply = exchange(msg, line);
  const before = printed.at(-1); // its reply is printed after the line before's
  printed.push(Promise.all([reply, before]).then(([reply]) => printReply(reply, line)));
  if (printed.length >= window) await printed.shift();
  // After a lost reply, the lines on their way are waited out before more go: is a server there?
  if (lostInARow > 0) await printed.at(-1);
  if (gaveUp()) break;
}
await printed.at(-1);

// sock.close()  — each line's socket is closed in exchange(), once its reply is in or given up on
const noReply = `got no reply from ${address.formatHostPort(host, port)} within ${timeout} s`;
if (signal.aborted) {
  if (answered < lines) log.error(`interrupted: ${answered} of ${lines} line(s) answered`);
} else if (gaveUp()) {
  const hint = "is a UDP server running there?";
  const inARow = `${lostInARow} line${lostInARow === 1 ? "" : "s"} in a row`;
  log.error(`${inARow} ${noReply}; stopped (--give-up ${giveUp}): ${hint}`);
} else if (lost > 0) {
  const hint = "lost on the way, or no UDP server is running there";
  log.error(`${lost} of ${lines - unsent} line(s) ${noReply}: ${hint}`);
}
Deno.exit(signal.aborted ? signal.reason : answered < lines ? 1 : 0);

/** One line's round trip: its reply, or why there is none. */
async function exchange(msg: Uint8Array, line: number): Promise<Uint8Array | "lost" | "unsent"> {
  // sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  — a new socket for every line:
  // UDP may deliver a reply late or twice, and such a reply then reaches a socket that is
  // already closed, so it is never taken for the answer to a later line.
  const sock = traced(Deno.listenDatagram({ hostname: bindAddress, port: 0, transport: "udp" }));
  // After --timeout seconds, or at Ctrl-C, closing the socket ends the wait for the reply.
  let open = true;
  const close = () => {
    if (open) sock.close();
    open = false;
  };
  const timer = setTimeout(close, timeout * 1000);
  signal.addEventListener("abort", close);
  try {
    //   sock.sendto(msg.encode(), ("127.0.0.1", 5005))
    await sock.send(msg, server);
    //   recvMsg, addr = sock.recvfrom(2048)  — a datagram from anyone but the server is no reply
    const buffer = buffers.pop() ?? new Uint8Array(65_536);
    let [recvMsg, addr] = await sock.receive(buffer);
    while (!address.isFromServer(addr, host, port)) {
      log.warn(`ignored a datagram from ${address.formatAddress(addr)}`);
      [recvMsg, addr] = await sock.receive(buffer);
    }
    return recvMsg;
  } catch (error) {
    if (isTooLongForDatagram(error)) {
      const why = describePeerError(error, msg.length);
      log.warn(`line ${line}: ${why} (UDP does not split messages)`);
      unsent++;
      return "unsent";
    }
    if (!isClosedSocket(error)) throw error;
    const why = signal.aborted ? ": Ctrl-C ended the wait" : ` within ${timeout} s`;
    trace({ call: "recvfrom", local: address.formatAddress(sock.addr), note: `no reply${why}` });
    return "lost";
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", close);
    close();
  }
}

function printReply(reply: Uint8Array | "lost" | "unsent", line: number): void {
  if (signal.aborted || reply === "unsent" || gaveUp()) return;
  if (reply === "lost") {
    log.warn(`line ${line}: no reply within ${timeout} s (UDP does not resend lost datagrams)`);
    lost++;
    lostInARow++;
  } else {
    //   print(recvMsg.decode())
    print(reply);
    buffers.push(new Uint8Array(reply.buffer)); // for another line's reply
    answered++;
    lostInARow = 0;
  }
}
