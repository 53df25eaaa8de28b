import type { ChildProcess } from 'node:child_process';
import { exited } from './processes.js';

/** A process under test gets this long to stop after SIGTERM before it is killed. */
export const STOP_GRACE_MS = 15_000;

/**
 * Stops a child process: SIGTERM, then SIGKILL if it is still there after the grace period,
 * so a process stuck in its own shutdown can never keep a benchmark (and `pnpm bench`) alive.
 */
export async function stopProcess(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }

  const gone = exited(child);
  child.kill('SIGTERM');

  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });

  try {
    if ((await Promise.race([gone, late])) === 'late') {
      process.stderr.write(`pid ${child.pid ?? '?'} ignored SIGTERM for ${graceMs} ms, killed\n`);
      child.kill('SIGKILL');
      await gone;
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Everything a benchmark started, stopped in the reverse order of starting. Every step runs
 * even when an earlier one failed (one failure must not leave brokers and agent hosts behind);
 * the failures are reported together at the end.
 */
export class Teardown {
  readonly #steps: (() => Promise<void>)[] = [];

  /** Registers a step; the step registered last runs first. */
  add(step: () => Promise<void>): void {
    this.#steps.unshift(step);
  }

  async run(): Promise<void> {
    const failures: unknown[] = [];

    for (const step of this.#steps.splice(0)) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }

    if (failures.length > 0) {
      throw new AggregateError(failures, `${failures.length} teardown step(s) failed`);
    }
  }
}
