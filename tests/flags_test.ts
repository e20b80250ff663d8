/**
 * Flag parsing in-process: `parseFlags` with flags declared here, its defaults, and the one-line
 * `UsageError` it throws for each kind of bad command line. The scripts' own flags are checked
 * end to end, through each script's `--help` and exit status, in tests/cli_test.ts.
 */
import assert from "node:assert/strict";
import {
  type Flags,
  parseFlags,
  probability,
  seconds,
  toggle,
  UsageError,
  wholeNumber,
} from "../shared/flags.ts";

/** One of each kind of flag a script can declare. */
const FLAGS = {
  once: toggle("serve one connection"),
  timeout: seconds(2, "how long to wait", 0.001),
  grace: seconds(2, "time to finish"),
  maxConnections: wholeNumber(1024, "connections at once"),
  drop: probability("drop each reply"),
} satisfies Flags;

/** `parseFlags` throws a `UsageError` whose message matches `message`. */
function assertUsageError(args: string[], message: RegExp, role: "server" | "client" = "server") {
  assert.throws(
    () => parseFlags(role, FLAGS, args),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, `${args.join(" ")}: ${error}`);
      assert.match(error.message, message, args.join(" "));
      return true;
    },
    `${args.join(" ")} was accepted`,
  );
}

Deno.test("options: no flags give the tutorial's address and every declared default", () => {
  assert.deepEqual(parseFlags("client", FLAGS, []), {
    host: "127.0.0.1", // the tutorial's address
    port: 5005,
    recvSize: 65_536, // a receive holds the largest datagram
    trace: false,
    traceJson: false,
    help: false,
    once: false,
    timeout: 2,
    grace: 2,
    maxConnections: 1024,
    drop: 0,
  });
});

Deno.test("options: each flag is read, as --flag VALUE and --flag=VALUE", () => {
  const args = ["--host", "0.0.0.0", "--port=6006", "--once", "--timeout", ".5", "--grace=0"];
  args.push("--max-connections", "7", "--drop=0.25", "--trace", "--trace-json", "-h");
  args.push("--recv-size", "1024");
  assert.deepEqual(parseFlags("server", FLAGS, args), {
    host: "0.0.0.0",
    port: 6006,
    recvSize: 1024,
    trace: true,
    traceJson: true,
    help: true,
    once: true,
    timeout: 0.5,
    grace: 0,
    maxConnections: 7,
    drop: 0.25,
  });
});

Deno.test("options: --port bounds depend on the role (a server may ask for 0)", () => {
  assert.equal(parseFlags("server", FLAGS, ["--port", "0"]).port, 0);
  assert.equal(parseFlags("client", FLAGS, ["--port", "65535"]).port, 65535);
  assertUsageError(
    ["--port", "0"],
    /^--port must be a whole number from 1 to 65535, not "0"$/,
    "client",
  );
  assertUsageError(["--port", "65536"], /^--port must be a whole number from 0 to 65535/);
  for (const port of ["http", "", "5005.5", "5005.0", "+5", "5e3", " 5005", "0x10", "123456"]) {
    const quoted = port.replace(/[.+]/g, "\\$&");
    assertUsageError(
      [`--port=${port}`],
      new RegExp(`^--port must be a whole number .*, not "${quoted}"$`),
    );
  }
});

Deno.test("options: --host drops IPv6 brackets and refuses an empty address", () => {
  assert.equal(parseFlags("client", FLAGS, ["--host", "[::1]"]).host, "::1");
  assert.equal(parseFlags("client", FLAGS, ["--host=::1"]).host, "::1");
  assert.equal(parseFlags("client", FLAGS, ["--host", "localhost"]).host, "localhost");
  for (const host of ["", "  "]) assertUsageError([`--host=${host}`], /^--host needs an address/);
});

Deno.test("options: numbers outside their rule are refused in a sentence", () => {
  const cases: [string, RegExp][] = [
    [
      "--timeout=0",
      /^--timeout must be a number of seconds from 0\.001 to 2147483 \(like 2 or 0\.5\), not "0"$/,
    ],
    // A timer cannot wait longer: a larger value would fire at once.
    ["--timeout=2147484", /^--timeout must be .* to 2147483/],
    ["--timeout=soon", /^--timeout must be a number of seconds/],
    ["--timeout=1e3", /^--timeout must be a number of seconds/],
    ["--grace=-0.5", /^--grace must be a number of seconds from 0/],
    ["--grace=", /^--grace must be a number of seconds from 0 to 2147483 .*, not ""$/],
    ["--max-connections=0", /^--max-connections must be a whole number of at least 1, not "0"$/],
    ["--max-connections=2.0", /^--max-connections must be a whole number of at least 1/],
    ["--drop=1.5", /^--drop must be a probability from 0 to 1, not "1\.5"$/],
  ];
  for (const [arg, message] of cases) assertUsageError([arg], message);
  assertUsageError(["--timeout=0.0001"], /^--timeout must be a number of seconds from 0\.001/);
});

Deno.test("options: an unknown flag, a stray argument, a missing or unwanted value", () => {
  assertUsageError(["--bogus"], /^unknown option --bogus$/);
  assertUsageError(["-x"], /^unknown option -x$/);
  assertUsageError(["stray"], /^unexpected argument "stray"$/);
  assertUsageError(["--port"], /^--port needs a value$/);
  assertUsageError(["--grace"], /^--grace needs a value$/);
  // A value that looks like a flag is not taken as one: say how to pass it.
  assertUsageError(
    ["--host", "-weird"],
    /^--host needs a value \(write --host=VALUE for one that starts with "-"\)$/,
  );
  assertUsageError(["--host", "--port", "1"], /^--host needs a value/);
  // A negative number is a value, refused for its range, not taken for the next flag.
  assertUsageError(
    ["--timeout", "-1"],
    /^--timeout must be a number of seconds from 0\.001 .*, not "-1"$/,
  );
  assertUsageError(
    ["--port", "-.5"],
    /^--port must be a whole number from 0 to 65535, not "-\.5"$/,
  );
  assertUsageError(["--help=yes"], /^--help takes no value$/);
  assertUsageError(["--once=true"], /^--once takes no value$/);
});
