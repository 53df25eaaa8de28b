import type { CheckAnswer } from './broker-auth.js';

/** Bounds memory when many clients read many topics; the cache is rebuilt on demand. */
const MAX_ENTRIES = 100_000;

/**
 * How long a decision fetched for a message stays usable for delivering that message. The
 * fetch happens when the message is published and the lookup when Aedes forwards it, a moment
 * later: a decision must outlive that moment even when the cache time is shorter (or 0, the
 * plug's "no cache"), or an acknowledged QoS 1 message would be dropped in between.
 */
export const FORWARD_WINDOW_MS = 2_000;

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

  /**
   * True when a known answer will still be valid when the message now being routed is
   * forwarded, so no request is needed. An answer closer to its expiry is asked again.
   */
  has(username: string, topic: string, now = Date.now()): boolean {
    const entry = this.#entries.get(ReadCache.key(username, topic));

    return entry !== undefined && entry.expires - now > FORWARD_WINDOW_MS;
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

    const lifetime = Math.max(this.#ttlMs, FORWARD_WINDOW_MS);
    this.#entries.set(ReadCache.key(username, topic), { answer, expires: now + lifetime });
  }

  allows(username: string, topic: string, now = Date.now()): boolean {
    const entry = this.#entries.get(ReadCache.key(username, topic));

    return entry !== undefined && entry.expires > now && entry.answer === 'yes';
  }

  clear(): void {
    this.#entries.clear();
  }
}
