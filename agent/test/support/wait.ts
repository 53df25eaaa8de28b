/** How long a test waits for an event before failing; generous for a busy 2-core machine. */
export const EVENT_TIMEOUT_MS = 15_000;

/**
 * Collects items as they arrive and lets a test wait for one that matches, without sleeping:
 * each push re-checks the waiting predicates.
 */
export class Collector<T> {
  readonly items: T[] = [];
  readonly #waiters = new Set<() => void>();

  push(item: T): void {
    this.items.push(item);
    this.#waiters.forEach((wake) => wake());
  }

  filter(predicate: (item: T) => boolean): T[] {
    return this.items.filter(predicate);
  }

  async waitFor(
    predicate: (item: T) => boolean,
    what: string,
    timeoutMs = EVENT_TIMEOUT_MS,
  ): Promise<T> {
    return this.waitForCount(predicate, 1, what, timeoutMs).then((found) => found[0] as T);
  }

  /** Resolves with the matching items once there are at least `count` of them. */
  async waitForCount(
    predicate: (item: T) => boolean,
    count: number,
    what: string,
    timeoutMs = EVENT_TIMEOUT_MS,
  ): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;

    for (;;) {
      const found = this.items.filter(predicate);

      if (found.length >= count) {
        return found;
      }

      const left = deadline - Date.now();

      if (left <= 0) {
        throw new Error(`timed out waiting for ${what} (${found.length}/${count})`);
      }

      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        const waiters = this.#waiters;
        waiters.add(done);
      });
    }
  }
}
