import { setTimeout as sleep } from 'node:timers/promises';

const DEFAULT_WAIT_MS = 30_000;
const POLL_MS = 25;

/** Polls a condition until it holds; for state outside this process (files, other processes). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;

  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }

    await sleep(POLL_MS);
  }
}
