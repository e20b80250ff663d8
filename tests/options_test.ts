/**
 * Flag parsing in-process: `parseOptions` for the four scripts' specs, its defaults, and the
 * one-line `UsageError` it throws for each kind of bad command line (the scripts turn that
 * into exit 2; tests/cli_test.ts checks that end to end).
 */
import assert from "node:assert/strict";
import { UsageError } from "../shared/errors.ts";
import { DEFAULT_HOST, DEFAULT_PORT, parseOptions, type ScriptSpec } from "../shared/options.ts";

const UDP_SERVER: ScriptSpec = { script: "udp/server.ts", role: "server", flags: ["quiet"] };
const UDP_CLIENT: ScriptSpec = { script: "udp/client.ts", role: "client", flags: ["timeout"] };
const TCP_SERVER: ScriptSpec = {
  script: "tcp/server.ts",
  role: "server",
  flags: ["once", "quiet", "maxConnections", "idleTimeout", "grace"],
};
const TCP_CLIENT: ScriptSpec = { script: "tcp/client.ts", role: "client" };
const ALL = [UDP_SERVER, UDP_CLIENT, TCP_SERVER, TCP_CLIENT];

/** `parseOptions` throws a `UsageError` whose message matches `message`. */
function assertUsageError(spec: ScriptSpec, args: string[], message: RegExp) {
  assert.throws(
    () => parseOptions(spec, args),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, `${args.join(" ")}: ${error}`);
      assert.match(error.message, message, args.join(" "));
      return true;
    },
    `${spec.script} ${args.join(" ")} was accepted`,
  );
}

/** `text` as a regular expression that matches it literally. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("options: no flags give the tutorial's address and every default", () => {
  assert.equal(DEFAULT_HOST, "127.0.0.1");
  assert.equal(DEFAULT_PORT, 5005);
  for (const spec of ALL) {
    const options = parseOptions(spec, []);
    assert.equal(options.host, "127.0.0.1", spec.script);
    assert.equal(options.port, 5005, spec.script);
    assert.equal(options.help, false, spec.script);
    assert.equal(options.trace, false, spec.script);
  }
  assert.equal(parseOptions(UDP_SERVER, []).quiet, false);
  assert.equal(parseOptions(UDP_CLIENT, []).timeout, 2);
  const tcp = parseOptions(TCP_SERVER, []);
  assert.equal(tcp.once, false);
  assert.equal(tcp.quiet, false);
  assert.equal(tcp.maxConnections, 1024);
  assert.equal(tcp.idleTimeout, 0);
  assert.equal(tcp.grace, 2);
});

Deno.test("options: each flag a script takes is read, as --flag VALUE and --flag=VALUE", () => {
  const tcp = parseOptions(TCP_SERVER, [
    "--host",
    "0.0.0.0",
    "--port=6006",
    "--once",
    "--quiet",
    "--max-connections",
    "7",
    "--idle-timeout=0.25",
    "--grace",
    "0",
    "--trace",
    "--help",
  ]);
  assert.equal(tcp.host, "0.0.0.0");
  assert.equal(tcp.port, 6006);
  assert.equal(tcp.once, true);
  assert.equal(tcp.quiet, true);
  assert.equal(tcp.maxConnections, 7);
  assert.equal(tcp.idleTimeout, 0.25);
  assert.equal(tcp.grace, 0);
  assert.equal(tcp.trace, true);
  assert.equal(tcp.help, true);
  assert.equal(parseOptions(UDP_CLIENT, ["--timeout", "0.5"]).timeout, 0.5);
  assert.equal(parseOptions(UDP_SERVER, ["--quiet"]).quiet, true);
});

Deno.test("options: --port bounds depend on the role (a server may ask for 0)", () => {
  for (const spec of [UDP_SERVER, TCP_SERVER]) {
    assert.equal(parseOptions(spec, ["--port", "0"]).port, 0);
    assert.equal(parseOptions(spec, ["--port", "65535"]).port, 65535);
    assertUsageError(spec, ["--port", "65536"], /^--port must be a whole number from 0 to 65535/);
  }
  for (const spec of [UDP_CLIENT, TCP_CLIENT]) {
    assertUsageError(
      spec,
      ["--port", "0"],
      /^--port must be a whole number from 1 to 65535, not "0"$/,
    );
    assert.equal(parseOptions(spec, ["--port", "1"]).port, 1);
    assert.equal(parseOptions(spec, ["--port", "65535"]).port, 65535);
    assertUsageError(spec, ["--port", "65536"], /^--port must be a whole number from 1 to 65535/);
  }
});

Deno.test("options: --port that is not a whole number is refused, naming it", () => {
  for (
    const port of ["http", "", "5005.5", "5005.0", "-1", "+5", "5e3", " 5005", "0x10", "123456"]
  ) {
    assertUsageError(
      TCP_SERVER,
      [`--port=${port}`],
      new RegExp(`^--port must be a whole number from 0 to 65535, not "${escape(port)}"$`),
    );
  }
});

Deno.test("options: --host drops IPv6 brackets and refuses an empty address", () => {
  assert.equal(parseOptions(TCP_CLIENT, ["--host", "[::1]"]).host, "::1");
  assert.equal(parseOptions(TCP_CLIENT, ["--host", "::1"]).host, "::1");
  assert.equal(parseOptions(UDP_SERVER, ["--host=[::]"]).host, "::");
  assert.equal(parseOptions(UDP_CLIENT, ["--host", "localhost"]).host, "localhost");
  for (const host of ["", "  "]) {
    assertUsageError(TCP_CLIENT, [`--host=${host}`], /^--host needs an address/);
  }
});

Deno.test("options: bad numbers for --timeout, --max-connections, --idle-timeout, --grace", () => {
  const cases: [ScriptSpec, string, RegExp][] = [
    [
      UDP_CLIENT,
      "--timeout=0",
      /^--timeout must be a number of seconds above 0 and at most 2147483 \(like 2 or 0\.5\), not "0"$/,
    ],
    // A timer cannot wait longer: a larger value would fire at once.
    [UDP_CLIENT, "--timeout=2147484", /^--timeout must be .* at most 2147483/],
    [UDP_CLIENT, "--timeout=soon", /^--timeout must be a number of seconds above 0/],
    [UDP_CLIENT, "--timeout=-1", /^--timeout must be a number of seconds above 0/],
    [UDP_CLIENT, "--timeout=.5", /^--timeout must be a number of seconds above 0/],
    [TCP_SERVER, "--max-connections=0", /^--max-connections must be a whole number from 1/],
    [TCP_SERVER, "--max-connections=2.5", /^--max-connections must be a whole number from 1/],
    [TCP_SERVER, "--max-connections=2.0", /^--max-connections must be a whole number from 1/],
    [TCP_SERVER, "--max-connections=many", /^--max-connections must be a whole number from 1/],
    [TCP_SERVER, "--idle-timeout=-1", /^--idle-timeout must be a number of seconds from 0/],
    [TCP_SERVER, "--idle-timeout=1s", /^--idle-timeout must be a number of seconds from 0/],
    [TCP_SERVER, "--grace=-0.5", /^--grace must be a number of seconds from 0/],
    [TCP_SERVER, "--grace=", /^--grace must be a number of seconds from 0 to 2147483 .*, not ""$/],
  ];
  for (const [spec, arg, message] of cases) assertUsageError(spec, [arg], message);
});

Deno.test("options: an unknown flag, or another script's flag, is refused by name", () => {
  for (const spec of ALL) assertUsageError(spec, ["--bogus"], /^unknown option --bogus$/);
  assertUsageError(UDP_SERVER, ["--once"], /^unknown option --once$/);
  assertUsageError(TCP_CLIENT, ["--timeout", "1"], /^unknown option --timeout$/);
  assertUsageError(UDP_CLIENT, ["--grace=1"], /^unknown option --grace$/);
  assertUsageError(TCP_CLIENT, ["stray"], /^unexpected argument "stray"$/);
});

Deno.test("options: a flag missing its value asks for one", () => {
  assertUsageError(TCP_CLIENT, ["--port"], /^--port needs a value$/);
  assertUsageError(TCP_CLIENT, ["--host"], /^--host needs a value$/);
  assertUsageError(UDP_CLIENT, ["--timeout"], /^--timeout needs a value$/);
  assertUsageError(TCP_SERVER, ["--grace"], /^--grace needs a value$/);
  // A value that looks like a flag is not taken as one: say how to pass it.
  assertUsageError(
    TCP_CLIENT,
    ["--port", "-1"],
    /^--port needs a value \(write --port=VALUE for one that starts with "-"\)$/,
  );
  assertUsageError(TCP_CLIENT, ["--host", "--port", "1"], /^--host needs a value/);
});

Deno.test("options: a flag that takes no value refuses one", () => {
  assertUsageError(TCP_CLIENT, ["--help=yes"], /^--help takes no value$/);
  assertUsageError(UDP_SERVER, ["--trace=1"], /^--trace takes no value$/);
  assertUsageError(TCP_SERVER, ["--once=true"], /^--once takes no value$/);
  assertUsageError(UDP_SERVER, ["--quiet=no"], /^--quiet takes no value$/);
});

Deno.test("options: -h is --help; --drop and --duplicate take a probability from 0 to 1", () => {
  assert.equal(parseOptions(TCP_CLIENT, ["-h"]).help, true);
  const lossy: ScriptSpec = { ...UDP_SERVER, flags: ["drop", "duplicate"] };
  const options = parseOptions(lossy, ["--drop", "0.25", "--duplicate=1"]);
  assert.deepEqual([options.drop, options.duplicate], [0.25, 1]);
  assert.deepEqual([parseOptions(lossy, []).drop, parseOptions(lossy, []).duplicate], [0, 0]);
  assertUsageError(lossy, ["--drop", "1.5"], /^--drop must be a probability from 0 to 1/);
  assertUsageError(lossy, ["--duplicate", "-1"], /^--duplicate needs a value/);
  assertUsageError(UDP_SERVER, ["--drop", "1"], /^unknown option --drop/); // not its flag
});

Deno.test("options: a script's own default and help override the shared ones", () => {
  const client: ScriptSpec = {
    ...TCP_CLIENT,
    flags: ["timeout", "lineByLine"],
    overrides: { timeout: { fallback: 0 } },
  };
  assert.equal(parseOptions(client, []).timeout, 0);
  assert.equal(parseOptions(UDP_CLIENT, []).timeout, 2);
  assert.equal(parseOptions(client, ["--line-by-line"]).lineByLine, true);
});
