/**
 * TCP server from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * accept a connection, upper-case everything it sends, send it back, until the client closes.
 * The tutorial serves one client and exits; this one serves every client at the same time and
 * keeps running (`--once` gives the tutorial's behaviour).
 *
 *   deno run --allow-net tcp/server.ts [--host 127.0.0.1] [--port 5005] [--once] [--trace]
 *
 * More flags (--max-connections, --idle-timeout, --grace, --quiet): see --help.
 *
 * @module
 */
// import socket
import { upperCaseStream } from "../shared/codec.ts";
import { runMain } from "../shared/main.ts";
import { listenTcp, receive, send, serveConnections } from "../shared/tcp.ts";

const SPEC = {
  script: "tcp/server.ts",
  role: "server",
  flags: ["once", "quiet", "maxConnections", "idleTimeout", "grace"],
} as const;
const summary = "TCP server: sends everything each client sends back upper-cased.";

runMain(SPEC, summary, async ({ options, log }) => {
  // sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  // sock.bind(('127.0.0.1', Port))
  // sock.listen()  — Deno.listen does all three; fails if another program holds the port
  const sock = listenTcp(options, log);

  // con, addr = sock.accept()  — for every client, not just the first. Each connection runs on
  // its own (not awaited), so a slow client never holds up the others. Ctrl-C closes them all
  // and the listening socket: the tutorial's unreachable `sock.close()`.
  await serveConnections(sock, { ...options, log }, async (con) => {
    // TCP is a byte stream: a read may end inside a multibyte character, which is held back
    // until its last bytes arrive, so it is upper-cased whole. Each reply is sent before the
    // next read, so one output buffer serves the whole connection.
    const upper = upperCaseStream({ reuseOutput: true });

    // while True:
    //     data = con.recv(1024).decode()
    //     if not data: break  — the loop ends when the client closes its side
    for await (const data of receive(con, upper)) {
      //   capitalized = data.upper()
      //   con.send(capitalized.encode())  — send it all, then read on: a client that does not
      //                                      read slows only its own connection
      await send(con, upper.push(data));
    }
    await send(con, upper.flush());
  });
});
