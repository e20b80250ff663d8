// The bare Deno loop: the shortest servers Deno allows doing our servers' work with the
// project's codec, and nothing else (no flags, logs, limits, timeouts or shutdown). Our servers'
// ratio to these is what their machinery costs.
//
// With `floor` after the port, the same loop upper-cases with no codec at all: a byte loop that
// flips a-z where the bytes landed. Right for ASCII only (not a correct server for Korean), it is
// the floor of what upper-casing can cost; bare's ratio to it is what our codec costs.
//
//   deno run --allow-net bench/baselines/deno_bare.ts tcp|udp PORT [floor]
//   (from the project root, whose deno.json enables unstable net; elsewhere add --unstable-net)
//   prints "listening on tcp://127.0.0.1:PORT" once ready
import { upperCaseInPlace, upperCaseStream } from "../../shared/codec.ts";

const [kind, port, floor] = [Deno.args[0], Number(Deno.args[1]), Deno.args[2] === "floor"];

function flipAsciiInPlace(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x61 && bytes[i] <= 0x7a) bytes[i] ^= 0x20;
  return bytes;
}
const upper = floor ? flipAsciiInPlace : upperCaseInPlace;
const stream = floor
  ? () => ({ upperCaseInPlace: flipAsciiInPlace, flush: () => new Uint8Array(0) })
  : upperCaseStream;

if (kind === "udp") {
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" });
  console.log(`listening on udp://127.0.0.1:${(socket.addr as Deno.NetAddr).port}`);
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const [data, peer] = await socket.receive(buffer);
    await socket.send(upper(data), peer);
  }
} else {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  console.log(`listening on tcp://127.0.0.1:${listener.addr.port}`);
  while (true) {
    const conn = await listener.accept().catch(() => undefined);
    if (conn) serve(conn); // not awaited: every connection at once
  }
}

async function serve(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const upper = stream();
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let read; (read = await conn.read(buffer)) !== null;) {
      await writeAll(conn, upper.upperCaseInPlace(buffer.subarray(0, read)));
    }
    await writeAll(conn, upper.flush());
  } catch {
    // the client reset the connection: nothing left to answer
  } finally {
    conn.close();
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}
