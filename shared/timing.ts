/**
 * Waiting with a limit, without leaving timers behind.
 *
 * @example
 * ```ts
 * import { within } from "./timing.ts";
 * await within(new Promise(() => {}), 10); // undefined after 10 ms
 * ```
 * @module
 */

/** `promise`'s value, or undefined if it has not settled after `ms` milliseconds. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
