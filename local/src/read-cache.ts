import type { CheckAnswer } from './broker-auth.js';

/** Bounds memory when many clients read many topics; the cache is rebuilt on demand. */
const MAX_ENTRIES = 100_000;

/**
 * Read decisions fetched ahead of delivery. Aedes asks its forward hook synchronously, so the
 * asynchronous HTTP read check has to happen before (when the message is published, when a
 * subscription brings retained messages, when a session with queued messages reconnects) and
 * the hook only looks the answer up.
 */
export class ReadCache {
  readonly #entries = new Map<string, { readonly answer: CheckAnswer; readonly expires: number }>();
  readonly #ttlMs: number;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  static key(username: string, topic: string): string {
    return `${username}\u0000${topic}`;
  }

  /** True when a fresh answer is already known, so no request is needed. */
  has(username: string, topic: string, now = Date.now()): boolean {
    const entry = this.#entries.get(ReadCache.key(username, topic));

    return entry !== undefined && entry.expires > now;
  }

  set(username: string, topic: string, answer: CheckAnswer, now = Date.now()): void {
    if (this.#entries.size >= MAX_ENTRIES) {
      this.#entries.clear();
    }

    // Errors are not remembered, as in the plug: the next delivery asks again.
    if (answer === 'error') {
      this.#entries.delete(ReadCache.key(username, topic));
      return;
    }

    this.#entries.set(ReadCache.key(username, topic), { answer, expires: now + this.#ttlMs });
  }

  allows(username: string, topic: string, now = Date.now()): boolean {
    const entry = this.#entries.get(ReadCache.key(username, topic));

    return entry !== undefined && entry.expires > now && entry.answer === 'yes';
  }

  clear(): void {
    this.#entries.clear();
  }
}
