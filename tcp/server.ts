/**
 * TCP server from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * accept a connection, upper-case everything it sends, send it back, until the client closes.
 * The tutorial serves one client and exits; this one serves every client at once and keeps
 * running (`--once`: as the tutorial). Ctrl-C or SIGTERM stops it, exit 0.
 *
 *   deno run --allow-net=127.0.0.1 tcp/server.ts [--host 127.0.0.1] [--port 5005] [--once]
 *
 * @module
 */
// import socket
import { announceListening, formatAddress } from "../shared/address.ts";
import { upperCaseStream } from "../shared/codec.ts";
import { isClosedSocket } from "../shared/errors.ts";
import { seconds, toggle, wholeNumber } from "../shared/flags.ts";
import { start } from "../shared/start.ts";
import { trace, traced } from "../shared/trace.ts";
import { type Client, trackConnections } from "./connections.ts";

const { host, port, recvSize, once, maxConnections, idleTimeout, grace, log, signal } = start({
  path: "tcp/server.ts",
  role: "server",
  summary: "TCP server: sends everything each client sends back upper-cased.",
  quiet: "no log line per connection (connected, closed, reset)",
  flags: {
    once: toggle("serve one connection, then exit (as the tutorial does)"),
    maxConnections: wholeNumber(1024, "connections served at once; extras are closed"),
    idleTimeout: seconds(0, "close a connection that sends nothing for SEC; 0: never"),
    grace: seconds(2, "time open connections get to finish after Ctrl-C"),
  },
});

// sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
// sock.bind(('127.0.0.1', Port))
// sock.listen()  — Deno.listen does all three; it fails if another program holds the port
const sock = traced(Deno.listen({ hostname: host, port, transport: "tcp" }));
announceListening("tcp", sock.addr, log);

// sock.close()  — the tutorial's last line; Ctrl-C runs it here, and so does the end of --once
//                 (Symbol.dispose is close() that does nothing on a socket closed already)
signal.addEventListener("abort", () => sock[Symbol.dispose]());
const connections = trackConnections({ maxConnections, idleTimeout, grace, log, signal });

while (true) {
  let con: Deno.TcpConn;
  try {
    // con, addr = sock.accept()  — for every client, not just the first
    con = await sock.accept();
  } catch (error) {
    if (isClosedSocket(error)) break; // Ctrl-C or --once closed the listening socket
    await connections.acceptFailed(error); // say, a client reset before we accepted it
    continue;
  }
  con.setNoDelay(true); // a short reply goes out at once, not held back to fill a packet
  // Not awaited: each connection runs on its own, so a slow client never holds up the others.
  connections.serve(con, serve); // (past --max-connections, it is closed instead)
  if (once) sock[Symbol.dispose]();
}
await connections.allClosed(); // after Ctrl-C, each connection gets --grace seconds to finish
Deno.exit(0);

async function serve(con: Deno.TcpConn, client: Client): Promise<void> {
  // TCP is a byte stream: a read may end inside a multibyte character, which the stream holds
  // back until its last bytes arrive, so it is upper-cased whole.
  const upper = upperCaseStream();
  const buffer = new Uint8Array(recvSize);
  while (true) {
    // while True:
    //     data = con.recv(1024).decode()  — --recv-size bytes at most; null once the client closed
    const count = await client.waitingFor(con.read(buffer));
    if (signal.aborted) break; // Ctrl-C: too late to answer
    //     capitalized = data.upper()  — in place; at the end, a cut-off character goes as it came
    const capitalized = count ? upper.upperCaseInPlace(buffer.subarray(0, count)) : upper.flush();
    if (upper.held.length) {
      trace({ call: "hold", peer: formatAddress(con.remoteAddr), bytes: upper.held });
    }
    //     con.send(capitalized.encode())  — like send(), write may take only part of the bytes:
    //                                      loop until all are out. A client that does not read
    //                                      slows only its own connection.
    for (let sent = 0; sent < capitalized.length;) {
      sent += await con.write(capitalized.subarray(sent));
    }
    //     if not data: break
    if (count === null) return;
  }
  // After Ctrl-C, shutdown(SHUT_WR), then read to the client's end: closing with its bytes unread
  // would send a reset, which may discard replies it has not read yet.
  await con.closeWrite();
  while (await con.read(buffer) !== null);
}
