/**
 * One line in every test run that says whether the tests that start the scripts ran: a bare
 * `deno test` skips them, for want of permissions, and this says how to run them all.
 */
import assert from "node:assert/strict";
import { MISSING_PERMISSIONS } from "./helpers.ts";

const name = MISSING_PERMISSIONS.length === 0
  ? "every test runs: the permissions they need are granted"
  : `the tests that need --allow-${MISSING_PERMISSIONS.join(", --allow-")} are skipped: ` +
    "deno task test (or deno test -A) runs them all";

Deno.test(name, () => {
  for (const name of ["net", "run", "read", "write"] as const) {
    const granted = Deno.permissions.querySync({ name }).state === "granted";
    assert.equal(MISSING_PERMISSIONS.includes(name), !granted, name);
  }
});
