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
import { formatAddress, formatHostPort } from "../shared/address.ts";
import { describePeerError, isTooLongForDatagram, untilClosed } from "../shared/errors.ts";
import { seconds, wholeNumber } from "../shared/flags.ts";
import { start } from "../shared/start.ts";
import { input, print } from "../shared/stdio.ts";
import { trace, traced } from "../shared/trace.ts";
import { clientBindAddress, isFromServer } from "./addresses.ts";

const { host, port, recvSize, timeout, giveUp, log, signal } = start({
  path: "udp/client.ts",
  role: "client",
  summary: "UDP client: sends each line as a datagram and prints the reply.",
  datagrams: true,
  bindAddressFor: clientBindAddress,
  flags: {
    timeout: seconds(2, "how long to wait for each reply", 0.001),
    giveUp: wholeNumber(5, "piped input: stop after N lines in a row get no reply"),
  },
});
const server = { hostname: host, port, transport: "udp" } as const;
const bindAddress = clientBindAddress(host); // 127.0.0.1 for a server on this machine
/** One line's outcome: the reply (`cut` if longer than --recv-size), or why there is none. */
type Outcome = { reply: Uint8Array; cut: boolean } | { unsent: string } | "lost" | "interrupted";
// At a terminal, one line at a time, as in the post. Piped (beyond the post), up to 32 lines are
// on their way at once, each on its own socket; each reply is printed once those before it are.
const window = Deno.stdin.isTerminal() ? 1 : 32;
const shown: Promise<void>[] = []; // the lines on their way, in input order: shown when done
const count = { lines: 0, answered: 0, lost: 0, unsent: 0, lostInARow: 0 }; // by show() alone
const gaveUp = () => count.lostInARow >= giveUp && window > 1; // piped, and no server there?

// while True:
//     msg = input("->")  — the prompt shows only on a terminal; Ctrl-D ends the loop
for await (const msg of input("->", signal)) {
  //   sock.sendto(msg.encode(), ...); recvMsg, addr = sock.recvfrom(2048)  — in exchange()
  const outcome = exchange(msg);
  //   print(recvMsg.decode())  — in show(), once the lines before it are shown
  shown.push(Promise.all([outcome, shown.at(-1)]).then(([outcome]) => show(outcome)));
  if (shown.length >= window) await shown.shift();
  // After a lost reply, the lines on their way are waited out before more go: is a server there?
  if (count.lostInARow > 0) await shown.at(-1);
  if (gaveUp()) break;
}
await shown.at(-1);

// sock.close()  — each line's socket is closed in exchange(), once its reply is in or given up on
const noReply = `got no reply from ${formatHostPort(host, port)} within ${timeout} s`;
if (signal.aborted) {
  if (count.answered < count.lines) {
    log.error(`interrupted: ${count.answered} of ${count.lines} line(s) answered`);
  }
} else if (gaveUp()) {
  const inARow = `${count.lostInARow} line${count.lostInARow === 1 ? "" : "s"} in a row`;
  log.error(`${inARow} ${noReply}; stopped (--give-up ${giveUp}): is a UDP server running there?`);
} else if (count.lost > 0) {
  const hint = "lost on the way, or no UDP server is running there";
  log.error(`${count.lost} of ${count.lines - count.unsent} line(s) ${noReply}: ${hint}`);
}
Deno.exit(signal.aborted ? signal.reason : count.answered < count.lines ? 1 : 0);

/** One line's round trip: its datagram out, and the server's reply back. */
async function exchange(msg: Uint8Array): Promise<Outcome> {
  // sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  — a new socket for every line:
  // UDP may deliver a reply late or twice, and such a reply then reaches a socket that is
  // already closed, so it is never taken for the answer to a later line.
  const sock = traced(
    Deno.listenDatagram({ hostname: bindAddress, port: 0, transport: "udp" }),
    recvSize,
  );
  // After --timeout seconds, or at Ctrl-C, closing the socket ends the wait for the reply.
  const stop = AbortSignal.any([signal, AbortSignal.timeout(timeout * 1000)]);
  const close = () => sock.close();
  stop.addEventListener("abort", close);
  try {
    //   sock.sendto(msg.encode(), ("127.0.0.1", 5005))
    await sock.send(msg, server);
    //   recvMsg, addr = sock.recvfrom(2048)  — --recv-size bytes at most (and a byte more, to see
    //                                         a longer reply); from anyone but the server, no reply
    const buffer = new Uint8Array(recvSize + 1);
    for (let received; (received = await sock.receive(buffer).catch(untilClosed));) {
      const [recvMsg, addr] = received;
      const cut = recvMsg.length > recvSize;
      if (isFromServer(addr, host, port)) {
        return { reply: recvMsg.subarray(0, recvSize), cut };
      }
      log.warn(`ignored a datagram from ${formatAddress(addr)}`);
    }
    const why = signal.aborted ? ": Ctrl-C ended the wait" : ` within ${timeout} s`;
    trace({ call: "recvfrom", local: formatAddress(sock.addr), note: `no reply${why}` });
    return signal.aborted ? "interrupted" : "lost";
  } catch (error) {
    if (!isTooLongForDatagram(error)) throw error;
    return { unsent: describePeerError(error, msg.length) };
  } finally {
    stop.removeEventListener("abort", close);
    if (!stop.aborted) sock.close();
  }
}

/** The post's print() of a reply, or a line on what came instead; the one place that counts. */
function show(outcome: Outcome): void {
  const line = ++count.lines;
  if (outcome === "interrupted" || signal.aborted || gaveUp()) return;
  if (outcome === "lost") {
    log.warn(`line ${line}: no reply within ${timeout} s (UDP does not resend lost datagrams)`);
    count.lost++;
    count.lostInARow++;
  } else if ("unsent" in outcome) {
    log.warn(`line ${line}: ${outcome.unsent} (UDP does not split messages)`);
    count.unsent++;
  } else {
    if (outcome.cut) log.warn(`line ${line}: the reply was longer than ${recvSize} B: cut`);
    //   print(recvMsg.decode())
    print(outcome.reply);
    count.answered++;
    count.lostInARow = 0;
  }
}
