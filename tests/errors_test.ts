import assert from "node:assert/strict";
import { describeFailure, describePeerError } from "../shared/errors.ts";

const target = { host: "127.0.0.1", port: 5005 };

Deno.test("a reset names the server", () => {
  const reset = new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)");
  assert.equal(
    describeFailure(reset, target, ["tcp/client.ts"]),
    "the server at 127.0.0.1:5005 reset the connection",
  );
});

Deno.test("a permission hint quotes a bracketed address and keeps the user's flags", () => {
  const denied = new Deno.errors.NotCapable('Requires net access to "[::1]:5005"');
  assert.equal(
    describeFailure(denied, { host: "::1", port: 5005 }, ["udp/client.ts", "--host", "::1"]),
    "no network permission for [::1]:5005: run it as deno run '--allow-net=[::1]' " +
      "udp/client.ts --host ::1",
  );
});

Deno.test("a datagram too long to send says how long it was", () => {
  const error = Object.assign(new Error("Message too long (os error 90)"), { code: "EMSGSIZE" });
  assert.equal(describePeerError(error, 70_000), "70000 bytes do not fit in a datagram; not sent");
});

Deno.test("a permission hint adds the address a UDP client binds, each host once", () => {
  const denied = new Deno.errors.NotCapable('Requires net access to "0.0.0.0:0"');
  const target = { host: "example.com", port: 7, bindHost: "0.0.0.0" };
  assert.equal(
    describeFailure(denied, target, ["udp/client.ts", "--host", "example.com"]),
    "no network permission for 0.0.0.0:0: run it as deno run --allow-net=example.com,0.0.0.0 " +
      "udp/client.ts --host example.com",
  );
});
