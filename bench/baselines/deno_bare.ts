// The bare Deno loop: the shortest servers Deno allows doing our servers' work with the
// project's codec, and nothing else (no flags, logs, limits, timeouts or shutdown). Our servers'
// ratio to these is what their machinery costs.
//
//   deno run --allow-net bench/baselines/deno_bare.ts tcp|udp PORT
//   (from the project root, whose deno.json enables unstable net; elsewhere add --unstable-net)
//   prints "listening on tcp://127.0.0.1:PORT" once ready
import { upperCase, upperCaseStream } from "../../shared/codec.ts";

const [kind, port] = [Deno.args[0], Number(Deno.args[1])];

if (kind === "udp") {
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" });
  console.log(`listening on udp://127.0.0.1:${(socket.addr as Deno.NetAddr).port}`);
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const [data, peer] = await socket.receive(buffer);
    await socket.send(upperCase(data), peer);
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
  const upper = upperCaseStream();
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let read; (read = await conn.read(buffer)) !== null;) {
      await writeAll(conn, upper.push(buffer.subarray(0, read)));
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
