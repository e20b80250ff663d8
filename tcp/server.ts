/**
 * TCP server from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * accept a connection, upper-case everything it sends, send it back, until the client closes.
 * The tutorial serves one client and exits; this one serves every client at the same time and
 * keeps running (`--once` gives the tutorial's behaviour).
 *
 *   deno run --allow-net=127.0.0.1 tcp/server.ts [--host 127.0.0.1] [--port 5005] [--once]
 *
 * More flags (--max-connections, --idle-timeout, --grace, --quiet, --trace): see --help.
 *
 * @module
 */
// import socket
import { announceListening } from "../shared/address.ts";
import { type Client, trackClients } from "../shared/clients.ts";
import { upperCaseStream } from "../shared/codec.ts";
import { isClosedSocket } from "../shared/errors.ts";
import { start } from "../shared/start.ts";
import { traced } from "../shared/trace.ts";

const { host, port, once, log, signal, ...limits } = start({
  script: "tcp/server.ts",
  role: "server",
  flags: ["once", "quiet", "maxConnections", "idleTimeout", "grace"],
  overrides: { quiet: { help: "no log line per connection (connected, closed, reset)" } },
}, "TCP server: sends everything each client sends back upper-cased.");

// sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
// sock.bind(('127.0.0.1', Port))
// sock.listen()  — Deno.listen does all three; it fails if another program holds the port
const sock = traced(Deno.listen({ hostname: host, port, transport: "tcp" }));
announceListening("tcp", sock.addr, log);

// sock.close()  — the tutorial's last line; Ctrl-C runs it here, and so does the end of --once
let listening = true;
function stopListening(): void {
  if (listening) sock.close();
  listening = false;
}
signal.addEventListener("abort", stopListening);
const clients = trackClients({ ...limits, log, signal });

while (listening) {
  let con: Deno.TcpConn;
  try {
    // con, addr = sock.accept()  — for every client, not just the first
    con = await sock.accept();
  } catch (error) {
    if (isClosedSocket(error)) break; // Ctrl-C closed the listening socket
    await clients.acceptFailed(error); // say, a client reset before we accepted it
    continue;
  }
  con.setNoDelay(true); // a short reply goes out at once, not held back to fill a packet
  const client = clients.add(con); // undefined past --max-connections: it was closed
  if (client === undefined) continue;
  // Not awaited: each connection runs on its own, so a slow client never holds up the others.
  serve(client).then(() => clients.close(client), (error) => clients.close(client, error));
  if (once) stopListening();
}
await clients.allClosed(); // after Ctrl-C, each connection gets --grace seconds to finish

async function serve(client: Client): Promise<void> {
  const con = client.conn;
  // TCP is a byte stream: a read may end inside a multibyte character, which the stream holds
  // back until its last bytes arrive, so it is upper-cased whole.
  const upper = upperCaseStream();
  const buffer = new Uint8Array(64 * 1024);
  while (!signal.aborted) {
    // while True:
    //     data = con.recv(1024).decode()  — up to 64 KiB; null once the client closed its side
    client.waitingSince = Date.now(); // --idle-timeout and Ctrl-C may end it only while it waits
    const count = await con.read(buffer);
    client.waitingSince = 0;
    if (signal.aborted) break; // Ctrl-C came while we waited: these bytes are too late
    //     capitalized = data.upper()  — at the end, a cut-off character goes back as it came
    const capitalized = count === null ? upper.flush() : upper.push(buffer.subarray(0, count));
    //     con.send(capitalized.encode())  — like send(), write may take only part of the bytes:
    //                                      loop until all are out. A client that does not read
    //                                      slows only its own connection.
    for (let sent = 0; sent < capitalized.length;) {
      sent += await con.write(capitalized.subarray(sent));
    }
    //     if not data: break
    if (count === null) return;
  }
  await clients.finishShutdown(client);
}
