/**
 * At most `limit` tasks at a time per key; the rest wait their turn in arrival order. Secret
 * checks queue here rather than being refused: a broker asking about many CONNECTs at once
 * gets every answer, only not all at the same moment. A key's entries go once it is idle, so
 * the tables hold only keys with work running or waiting.
 */
export class KeyedSlots {
  readonly #running = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();

  constructor(
    readonly limit: number,
    /** Waiting tasks per key beyond which run() answers `full` at once. */
    readonly maxWaiting: number,
  ) {}

  /** Tasks running for this key now. */
  running(key: string): number {
    return this.#running.get(key) ?? 0;
  }

  /** Runs `task` once a slot for `key` is free; `full` when too many wait already. */
  async run<T, F>(key: string, task: () => Promise<T>, full: F): Promise<T | F> {
    if (!(await this.#acquire(key))) {
      return full;
    }

    try {
      return await task();
    } finally {
      this.#release(key);
    }
  }

  #acquire(key: string): boolean | Promise<boolean> {
    const running = this.running(key);

    if (running < this.limit) {
      this.#running.set(key, running + 1);

      return true;
    }

    let queue = this.#waiting.get(key);

    if (queue === undefined) {
      queue = [];
      this.#waiting.set(key, queue);
    }

    if (queue.length >= this.maxWaiting) {
      return false;
    }

    const waiting = queue;

    return new Promise((resolve) => {
      waiting.push(() => {
        resolve(true);
      });
    });
  }

  // A finished task hands its slot straight to the next in line, so the running count only
  // drops when nobody waits.
  #release(key: string): void {
    const queue = this.#waiting.get(key);
    const next = queue?.shift();

    if (queue?.length === 0) {
      this.#waiting.delete(key);
    }

    if (next !== undefined) {
      next();

      return;
    }

    const running = this.running(key) - 1;

    if (running > 0) {
      this.#running.set(key, running);
    } else {
      this.#running.delete(key);
    }
  }
}
