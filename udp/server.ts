/**
 * UDP server from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * receive a datagram, upper-case it, send it back to whoever sent it, forever.
 *
 *   deno run --allow-net=127.0.0.1 udp/server.ts [--host 127.0.0.1] [--port 5005]
 *
 * `--drop P` and `--duplicate P` make the post's first lesson visible on loopback, where
 * nothing is ever lost: UDP datagrams may be lost or duplicated (중복되거나 누락될 수 있지만).
 *
 * @module
 */
// import socket
import { announceListening, formatAddress } from "../shared/address.ts";
import { upperCase } from "../shared/codec.ts";
import { describePeerError } from "../shared/errors.ts";
import { start } from "../shared/start.ts";
import { traced } from "../shared/trace.ts";

const { host, port, drop, duplicate, log, signal } = start({
  script: "udp/server.ts",
  role: "server",
  flags: ["quiet", "drop", "duplicate"],
  overrides: { quiet: { help: "no log line per datagram (dropped, doubled, not sent)" } },
}, "UDP server: sends every datagram back upper-cased.");

// sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
// sock.bind(("127.0.0.1", port))  — one call in Deno; it fails if another program holds the port
const sock = traced(Deno.listenDatagram({ hostname: host, port, transport: "udp" }));
announceListening("udp", sock.addr, log);

// sock.close()  — unreachable after `while True` in the tutorial; here Ctrl-C runs it, and the
//                 receive waiting below ends with the end of the script
signal.addEventListener("abort", () => sock.close());

// recvfrom(1024) would cut longer datagrams: 64 KiB holds the largest one (65,507 B on IPv4)
const buffer = new Uint8Array(65_536);
while (true) {
  // data, addr = sock.recvfrom(1024)
  const [data, addr] = await sock.receive(buffer);
  // data = data.decode().upper()  — bytes to bytes; bytes that are not UTF-8 pass unchanged
  const reply = upperCase(data);
  try {
    // sock.sendto(data.encode(), addr)  — once; none or twice when --drop or --duplicate says so
    for (let copies = copiesToSend(addr); copies > 0; copies--) await sock.send(reply, addr);
  } catch (error) {
    // One peer's trouble (a reply too long for a datagram) never stops the server.
    log.warn(`${formatAddress(addr)}: ${describePeerError(error, reply.length)}`);
  }
}

/**
 * How many copies of a reply to send: 1, or as the post's first lesson has it (UDP may lose or
 * double a datagram), 0 with --drop and 2 with --duplicate, each logged in one line.
 */
function copiesToSend(addr: Deno.Addr): number {
  if (drop > 0 && Math.random() < drop) {
    log.info(
      `dropped the reply to ${formatAddress(addr)} (--drop: lost on the way, as UDP allows)`,
    );
    return 0;
  }
  if (duplicate > 0 && Math.random() < duplicate) {
    log.info(
      `doubled the reply to ${formatAddress(addr)} (--duplicate: delivered twice, as UDP allows)`,
    );
    return 2;
  }
  return 1;
}
