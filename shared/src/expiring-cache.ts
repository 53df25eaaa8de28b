/**
 * A map with a size bound whose entries each carry the window in which they may be served.
 * Outside its window an entry is never returned (and is dropped once seen past its end); at
 * the bound the entry inserted first is evicted.
 */
export class ExpiringCache<V> {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry<V>>();

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, received ${maxEntries}`);
    }

    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key` when `nowMs` lies in its window [validFromMs, validUntilMs). */
  get(key: string, nowMs: number): V | undefined {
    const entry = this.#entries.get(key);

    if (entry === undefined) {
      return undefined;
    }

    if (nowMs >= entry.validUntilMs) {
      this.#entries.delete(key);
      return undefined;
    }

    return nowMs >= entry.validFromMs ? entry.value : undefined;
  }

  set(key: string, value: V, validFromMs: number, validUntilMs: number): void {
    this.#entries.delete(key);

    if (this.#entries.size >= this.#maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest entry.
      const oldest = this.#entries.keys().next();

      if (oldest.done !== true) {
        this.#entries.delete(oldest.value);
      }
    }

    this.#entries.set(key, { value, validFromMs, validUntilMs });
  }

  clear(): void {
    this.#entries.clear();
  }
}

interface Entry<V> {
  readonly value: V;
  readonly validFromMs: number;
  readonly validUntilMs: number;
}
