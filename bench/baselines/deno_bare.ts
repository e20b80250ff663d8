// The bare Deno loop: the shortest servers Deno allows doing our servers' work with the
// project's codec, and nothing else (no flags, logs, limits, timeouts or shutdown). Our servers'
// ratio to these is what their machinery costs.
//
// With `floor` after the port, the same loop upper-cases with no codec at all: a byte loop that
// flips a-z where the bytes landed. Right for ASCII only (not a correct server for Korean), it is
// the floor of what upper-casing can cost; bare's ratio to it is what our codec costs.
//
// Every loop is written inline: read, upper-case, then write until all is out, in the serve loop
// itself. A helper called per read (an async writeAll, a flip function) is machinery too: an
// async writeAll alone made the floor about 0.8× of this (50 connections × 1 KiB, issue #24).
// bare is the floor with the flip replaced by our codec's calls, and nothing else changed.
//
//   deno run --allow-net bench/baselines/deno_bare.ts tcp|udp PORT [floor]
//   (from the project root, whose deno.json enables unstable net; elsewhere add --unstable-net)
//   prints "listening on tcp://127.0.0.1:PORT" once ready
import { upperCaseInPlace, upperCaseStream } from "../../shared/codec.ts";

const [kind, port, floor] = [Deno.args[0], Number(Deno.args[1]), Deno.args[2] === "floor"];

if (kind === "udp") {
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" });
  console.log(`listening on udp://127.0.0.1:${(socket.addr as Deno.NetAddr).port}`);
  const buffer = new Uint8Array(64 * 1024);
  if (floor) {
    while (true) {
      const [data, peer] = await socket.receive(buffer);
      for (let i = 0; i < data.length; i++) if (data[i] >= 0x61 && data[i] <= 0x7a) data[i] ^= 0x20;
      await socket.send(data, peer);
    }
  } else {
    while (true) {
      const [data, peer] = await socket.receive(buffer);
      await socket.send(upperCaseInPlace(data), peer);
    }
  }
} else {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  console.log(`listening on tcp://127.0.0.1:${listener.addr.port}`);
  const serve = floor ? serveFloor : serveBare;
  while (true) {
    const conn = await listener.accept().catch(() => undefined);
    if (conn) serve(conn); // not awaited: every connection at once
  }
}

async function serveFloor(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let read; (read = await conn.read(buffer)) !== null;) {
      for (let i = 0; i < read; i++) if (buffer[i] >= 0x61 && buffer[i] <= 0x7a) buffer[i] ^= 0x20;
      for (let sent = 0; sent < read;) sent += await conn.write(buffer.subarray(sent, read));
    }
  } catch {
    // the client reset the connection: nothing left to answer
  } finally {
    conn.close();
  }
}

async function serveBare(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const upper = upperCaseStream();
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let read; (read = await conn.read(buffer)) !== null;) {
      const bytes = upper.upperCaseInPlace(buffer.subarray(0, read));
      for (let sent = 0; sent < bytes.length;) sent += await conn.write(bytes.subarray(sent));
    }
    const rest = upper.flush(); // the stream ended inside a character: it goes as it came
    for (let sent = 0; sent < rest.length;) sent += await conn.write(rest.subarray(sent));
  } catch {
    // the client reset the connection: nothing left to answer
  } finally {
    conn.close();
  }
}
