/**
 * Waits for a condition instead of for a guessed amount of time: tests that sleep "long enough"
 * fail on a loaded machine. Polls `check` until it holds, or throws naming `what` after `ms`.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
