/**
 * TCP client from the blog post "Python socket으로 UDP와 TCP 소켓 통신해보기", in Deno:
 * connect, then for each line: send it, print the server's reply.
 *
 *   deno run --allow-net tcp/client.ts [--host 127.0.0.1] [--port 5005]
 *
 * Type lines at the `->` prompt and end with Ctrl-D, or pipe them in:
 *   printf 'hello\nworld\n' | deno run --allow-net tcp/client.ts
 *
 * @module
 */
// import socket
import { upperCasedLength } from "../shared/codec.ts";
import { onShutdown, runMain } from "../shared/main.ts";
import { input, printInOrder } from "../shared/stdio.ts";
import { batchedSender, close, connectTcp, readReplies } from "../shared/tcp.ts";

const SPEC = { script: "tcp/client.ts", role: "client" } as const;
const summary = "TCP client: sends each line to the server and prints the reply.";

/**
 * Replies that may be on the way at once. At a terminal: one, as in the tutorial (send, wait,
 * print, prompt). Piped: many, so a long file does not pay one round trip per line; the
 * replies are still printed in order, and the client exits only when all are in.
 */
const window = Deno.stdin.isTerminal() ? 1 : 256;

runMain(SPEC, summary, async ({ options }) => {
  // sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  // sock.connect(('127.0.0.1', 5005))
  const sock = await connectTcp(options);
  onShutdown(() => close(sock));
  const sender = batchedSender(sock);
  const replies = readReplies(sock);
  const printer = printInOrder(window, () => sender.sendQueued());

  // while True:
  //     msg = input("->")  — the prompt shows only on a terminal; Ctrl-D ends the loop
  for await (const msg of input("->")) {
    //   sock.send(msg.encode())  — the line as typed, without its newline, as in the tutorial;
    //                              lines piped in together go out together, in one write
    sender.send(msg);

    //   data = sock.recv(1024)  — one recv may return part of a reply (TCP is a byte stream,
    //                             not messages), so read until the whole reply is here: as many
    //                             bytes as the upper-cased line has
    const data = replies.next(upperCasedLength(msg));
    //   print(data.decode())  — in order; waits here only when `window` replies are pending
    await printer.print(data);
  }
  await sender.flush();
  await printer.finish();

  // sock.close()
  close(sock);
});
