// In-memory limits keyed by source address or principal. Entries are dropped lazily and the
// maps are bounded, so a flood of distinct keys costs memory only up to MAX_TRACKED_KEYS.

const MAX_TRACKED_KEYS = 50_000;

type Clock = () => number;

function boundSize<V>(entries: Map<string, V>, isStale: (value: V) => boolean): void {
  if (entries.size < MAX_TRACKED_KEYS) {
    return;
  }

  for (const [key, value] of entries) {
    if (isStale(value)) {
      entries.delete(key);
    }
  }

  // Still full of live entries: forget the oldest rather than grow without bound.
  for (const key of entries.keys()) {
    if (entries.size < MAX_TRACKED_KEYS) {
      break;
    }

    entries.delete(key);
  }
}

export interface FailureLimit {
  readonly maxFailures: number;
  readonly windowMs: number;
}

interface FailureWindow {
  count: number;
  startedAt: number;
}

/**
 * Counts failed logins per key in fixed windows. Once a key reaches the limit it is refused
 * until its window ends, so a guesser gets `maxFailures` tries per window while a valid client
 * that shares the key waits at most one window.
 */
export class FailureThrottle {
  readonly #limit: FailureLimit;
  readonly #now: Clock;
  readonly #windows = new Map<string, FailureWindow>();

  constructor(limit: FailureLimit, now: Clock = Date.now) {
    this.#limit = limit;
    this.#now = now;
  }

  /** Milliseconds until `key` may try again; 0 when it may try now. */
  retryAfterMs(key: string): number {
    const window = this.#windows.get(key);

    if (window === undefined) {
      return 0;
    }

    const elapsed = this.#now() - window.startedAt;

    if (elapsed >= this.#limit.windowMs) {
      this.#windows.delete(key);

      return 0;
    }

    return window.count >= this.#limit.maxFailures ? this.#limit.windowMs - elapsed : 0;
  }

  recordFailure(key: string): void {
    const now = this.#now();
    const window = this.#windows.get(key);

    if (window === undefined || now - window.startedAt >= this.#limit.windowMs) {
      boundSize(this.#windows, (value) => now - value.startedAt >= this.#limit.windowMs);
      this.#windows.set(key, { count: 1, startedAt: now });

      return;
    }

    window.count += 1;
  }
}

export interface RateLimit {
  /** Requests allowed in a burst. */
  readonly burst: number;
  readonly perSecond: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A token bucket per key: `burst` requests at once, refilled at `perSecond`. */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #now: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit, now: Clock = Date.now) {
    this.#limit = limit;
    this.#now = now;
  }

  /** Takes one token; returns 0 when allowed, or the milliseconds until a token is free. */
  take(key: string): number {
    const now = this.#now();
    let bucket = this.#buckets.get(key);

    if (bucket === undefined) {
      const fullAfterMs = (this.#limit.burst / this.#limit.perSecond) * 1_000;

      boundSize(this.#buckets, (value) => now - value.updatedAt >= fullAfterMs);
      bucket = { tokens: this.#limit.burst, updatedAt: now };
      this.#buckets.set(key, bucket);
    } else {
      const refill = ((now - bucket.updatedAt) / 1_000) * this.#limit.perSecond;

      bucket.tokens = Math.min(this.#limit.burst, bucket.tokens + refill);
      bucket.updatedAt = now;
    }

    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;

      return 0;
    }

    return Math.ceil(((1 - bucket.tokens) / this.#limit.perSecond) * 1_000);
  }
}
