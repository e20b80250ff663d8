// The Node baseline: the same servers written the usual way with `net` and `dgram`, doing the
// same work (decode, upper-case, encode, reply). A StringDecoder keeps a character split across
// two TCP reads whole, as our codec does.
//
//   node node_server.mjs tcp|udp PORT     prints "listening on tcp://127.0.0.1:PORT" once ready
import dgram from "node:dgram";
import net from "node:net";
import { StringDecoder } from "node:string_decoder";

const [kind, port] = [process.argv[2], Number(process.argv[3])];

if (kind === "udp") {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (message, peer) => {
    socket.send(Buffer.from(message.toString("utf8").toUpperCase()), peer.port, peer.address);
  });
  socket.bind(port, "127.0.0.1", () => {
    console.log(`listening on udp://127.0.0.1:${socket.address().port}`);
  });
} else {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const decoder = new StringDecoder("utf8");
    socket.on("data", (chunk) => socket.write(Buffer.from(decoder.write(chunk).toUpperCase())));
    socket.on("end", () => socket.end(decoder.end().toUpperCase()));
    socket.on("error", () => socket.destroy());
  });
  server.listen(port, "127.0.0.1", () => {
    console.log(`listening on tcp://127.0.0.1:${server.address().port}`);
  });
}
