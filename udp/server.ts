/**
 * UDP server from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * receive a datagram, upper-case it, send it back to whoever sent it, forever.
 *
 *   deno run --allow-net udp/server.ts [--host 127.0.0.1] [--port 5005]
 *
 * @module
 */
// import socket
import { upperCase } from "../shared/codec.ts";
import { onShutdown, runMain } from "../shared/main.ts";
import { listenUdp, receiveDatagrams, sendDatagram } from "../shared/udp.ts";

const SPEC = { script: "udp/server.ts", role: "server", flags: ["quiet"] } as const;
const summary = "UDP server: sends every datagram back upper-cased.";

runMain(SPEC, summary, async ({ options, log }) => {
  // sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
  // sock.bind(("127.0.0.1", port))  — one call in Deno; fails if another program holds the port
  const sock = listenUdp(options, log);

  // sock.close()  — unreachable after `while True` in the tutorial; here Ctrl-C runs it
  onShutdown(() => sock.close());

  // while True:
  //     data, addr = sock.recvfrom(1024)  — we take up to 65,507 bytes: a datagram is never cut
  for await (const [data, addr] of receiveDatagrams(sock, log)) {
    //   data = data.decode().upper()  — bytes to bytes; bytes that are not UTF-8 pass unchanged
    const reply = upperCase(data);
    //   sock.sendto(data.encode(), addr)
    await sendDatagram(sock, reply, addr, log);
  }
});
