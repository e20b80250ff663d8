/**
 * UDP client from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * read a line, send it as one datagram, print the server's reply.
 *
 *   deno run --allow-net=127.0.0.1 udp/client.ts [--host 127.0.0.1] [--port 5005] [--timeout 2]
 *
 * Type lines at the `->` prompt and end with Ctrl-D, or pipe them in:
 *   printf 'hello\nworld\n' | deno run --allow-net=127.0.0.1 udp/client.ts
 *
 * @module
 */
// import socket
import { clientBindAddress, formatAddress, formatHostPort, isFrom } from "../shared/address.ts";
import { describePeerError, isClosedSocket, isTooLongForDatagram } from "../shared/errors.ts";
import { start } from "../shared/start.ts";
import { input, print } from "../shared/stdio.ts";
import { trace, traced } from "../shared/trace.ts";

const { host, port, timeout, log } = start({
  script: "udp/client.ts",
  role: "client",
  flags: ["timeout"],
  bindsFor: clientBindAddress,
}, "UDP client: sends each line as a datagram and prints the reply.");
const server = { hostname: host, port, transport: "udp" } as const;
const bindAddress = clientBindAddress(host); // 127.0.0.1 for a server on this machine
const buffer = new Uint8Array(65_536); // recvfrom(2048) would cut longer replies
let lines = 0;
let unsent = 0;
let unanswered = 0;

// while True:
//     msg = input("->")  — the prompt shows only on a terminal; Ctrl-D ends the loop
for await (const msg of input("->")) {
  lines++;
  // sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  — a new socket for every line:
  // UDP may deliver a reply late or twice, and such a reply then reaches a socket that is
  // already closed, so it is never taken for the answer to a later line.
  const sock = traced(Deno.listenDatagram({ hostname: bindAddress, port: 0, transport: "udp" }));
  try {
    //   sock.sendto(msg.encode(), ("127.0.0.1", 5005))
    await sock.send(msg, server);
  } catch (error) {
    if (!isTooLongForDatagram(error)) throw error;
    const why = describePeerError(error, msg.length);
    log.warn(`line ${lines}: ${why} (UDP does not split messages)`);
    unsent++;
    sock.close();
    continue;
  }
  //   recvMsg, addr = sock.recvfrom(2048)  — UDP may lose it: after --timeout seconds, closing
  //                                         the socket ends the wait
  const giveUp = setTimeout(() => sock.close(), timeout * 1000);
  let reply: Uint8Array | undefined;
  try {
    let [recvMsg, addr] = await sock.receive(buffer);
    while (!isFrom(addr, host, port)) {
      log.warn(`ignored a datagram from ${formatAddress(addr)}`);
      [recvMsg, addr] = await sock.receive(buffer);
    }
    reply = recvMsg;
  } catch (error) {
    if (!isClosedSocket(error)) throw error;
  }
  clearTimeout(giveUp);
  if (reply === undefined) {
    trace("recvfrom", `no reply within ${timeout} s`, "none");
    log.warn(`line ${lines}: no reply within ${timeout} s (UDP does not resend lost datagrams)`);
    unanswered++;
    continue;
  }
  //   print(recvMsg.decode())
  await print(reply);
  sock.close();
}

// sock.close()  — each line's socket is closed above, once its reply is in or given up on
if (unanswered > 0) {
  const where = formatHostPort(host, port);
  const sent = lines - unsent;
  log.error(
    `${unanswered} of ${sent} line(s) got no reply from ${where} within ${timeout} s: ` +
      "lost on the way, or no UDP server is running there",
  );
}
if (unanswered + unsent > 0) Deno.exitCode = 1;
