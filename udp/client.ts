/**
 * UDP client from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * read a line, send it as one datagram, print the server's reply.
 *
 *   deno run --allow-net udp/client.ts [--host 127.0.0.1] [--port 5005] [--timeout 2]
 *
 * Type lines at the `->` prompt and end with Ctrl-D, or pipe them in:
 *   printf 'hello\nworld\n' | deno run --allow-net udp/client.ts
 *
 * @module
 */
// import socket
import { onShutdown, runMain } from "../shared/main.ts";
import { input, print } from "../shared/stdio.ts";
import { openUdpClient, receiveReplies, sendDatagram } from "../shared/udp.ts";

const SPEC = { script: "udp/client.ts", role: "client", flags: ["timeout"] } as const;
const summary = "UDP client: sends each line as a datagram and prints the reply.";

runMain(SPEC, summary, async ({ options, log }) => {
  const server = { hostname: options.host, port: options.port, transport: "udp" as const };

  // sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
  const sock = openUdpClient(options);
  onShutdown(() => sock.close());
  const replies = receiveReplies(sock, options, log);
  let missing = 0;

  // while True:
  //     msg = input("->")  — the prompt shows only on a terminal; Ctrl-D ends the loop
  for await (const msg of input("->")) {
    //   sock.sendto(msg.encode(), ("127.0.0.1", 5005))  — a line too long for one datagram is
    //                                                     not sent (UDP does not split it)
    if (!await sendDatagram(sock, msg, server, log)) {
      missing++;
      continue;
    }

    //   recvMsg, addr = sock.recvfrom(2048)  — up to 65,507 bytes; UDP may lose it, so wait
    //                                           at most --timeout seconds
    const recvMsg = await replies.next(options.timeout * 1000);
    if (recvMsg === undefined) {
      log.warn(`no reply within ${options.timeout} s (UDP does not resend lost datagrams)`);
      missing++;
      continue;
    }
    //   print(recvMsg.decode())
    await print(recvMsg);
  }

  // sock.close()
  sock.close();
  if (missing > 0) throw new Error(`${missing} line(s) got no reply`);
});
