/**
 * UDP server from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * receive a datagram, upper-case it, send it back to whoever sent it, forever.
 *
 *   deno run --allow-net=127.0.0.1 udp/server.ts [--host 127.0.0.1] [--port 5005]
 *
 * `--drop P` and `--duplicate P` make the post's first lesson visible on loopback, where
 * nothing is ever lost: UDP datagrams may be lost or duplicated (중복되거나 누락될 수 있지만).
 * Ctrl-C or SIGTERM stops it: the socket is closed and it exits 0.
 *
 * @module
 */
// import socket
import { announceListening, formatAddress } from "../shared/address.ts";
import { upperCaseInPlace } from "../shared/codec.ts";
import { describePeerError, untilClosed } from "../shared/errors.ts";
import { probability } from "../shared/flags.ts";
import { start } from "../shared/start.ts";
import { trace, traced } from "../shared/trace.ts";
import { replyAddresses } from "./addresses.ts";

const { host, port, recvSize, drop, duplicate, log, signal } = start({
  path: "udp/server.ts",
  role: "server",
  summary: "UDP server: sends every datagram back upper-cased.",
  datagrams: true,
  quiet: "no log line per datagram (dropped, doubled, not sent)",
  repliesFor: replyAddresses,
  flags: {
    drop: probability("drop each reply with probability P, as a network may"),
    duplicate: probability("send each reply twice with probability P"),
  },
});

// sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
// sock.bind(("127.0.0.1", port))  — one call in Deno; it fails if another program holds the port
const sock = traced(Deno.listenDatagram({ hostname: host, port, transport: "udp" }), recvSize);
announceListening("udp", sock.addr, log);

// sock.close()  — unreachable after `while True` in the tutorial; here Ctrl-C runs it, and the
//                 loop below ends
signal.addEventListener("abort", () => sock.close());

// recvfrom(1024) takes 1,024 bytes of a datagram at most, and drops the rest: so does
// --recv-size, 64 KiB unless set, which holds the largest (65,507 B on IPv4). A byte more shows
// that a datagram was longer.
const buffer = new Uint8Array(recvSize + 1);
// while True:
//     data, addr = sock.recvfrom(1024)  — until the socket is closed: then the loop ends
for (let received; (received = await sock.receive(buffer).catch(untilClosed));) {
  let [data, addr] = received;
  if (data.length > recvSize) {
    log.info(`${formatAddress(addr)}: a datagram longer than ${recvSize} B, cut (--recv-size)`);
    data = data.subarray(0, recvSize);
  }
  // data = data.decode().upper()  — bytes to bytes, in the buffer it landed in; bytes that are
  //                                 not UTF-8 pass unchanged
  const reply = upperCaseInPlace(data);
  if (drop > 0 && Math.random() < drop) {
    const peer = formatAddress(addr);
    trace({ call: "drop", peer, bytes: reply });
    log.info(`dropped the reply to ${peer} (--drop: lost on the way, as UDP allows)`);
    continue;
  }
  try {
    // sock.sendto(data.encode(), addr)
    await sock.send(reply, addr);
    if (duplicate > 0 && Math.random() < duplicate) {
      const peer = formatAddress(addr);
      trace({ call: "duplicate", peer, bytes: reply });
      log.info(`doubled the reply to ${peer} (--duplicate: delivered twice, as UDP allows)`);
      await sock.send(reply, addr);
    }
  } catch (error) {
    // One peer's trouble (a reply too long for a datagram) never stops the server.
    log.warn(`${formatAddress(addr)}: ${describePeerError(error, reply.length)}`);
  }
}
Deno.exit(0);
