import type { ThrottleScope } from '../metrics/broker-metrics.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets of failed logins, one per key, in a bounded table. A key starts full; every
 * failure takes a token; tokens come back one per `refillMs`. An empty bucket means "do not
 * even run the hash". A full bucket is forgotten, so the table only holds keys that failed.
 */
export class FailureBuckets {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    readonly burst: number,
    readonly refillMs: number,
    readonly maxKeys: number,
    readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#buckets.size;
  }

  isEmpty(key: string): boolean {
    const bucket = this.#refill(key);

    return bucket !== undefined && bucket.tokens < 1;
  }

  /** Takes a token for a failure; true when this one emptied the bucket. */
  recordFailure(key: string): boolean {
    const bucket = this.#refill(key) ?? { tokens: this.burst, updatedAt: this.now() };
    const hadOne = bucket.tokens >= 1;
    bucket.tokens = Math.max(0, bucket.tokens - 1);

    // Re-insert so the Map's order is least recently failed first, the one to evict.
    this.#buckets.delete(key);

    if (this.#buckets.size >= this.maxKeys) {
      const oldest = this.#buckets.keys().next();

      if (oldest.done !== true) {
        this.#buckets.delete(oldest.value);
      }
    }

    this.#buckets.set(key, bucket);

    return hadOne && bucket.tokens < 1;
  }

  #refill(key: string): Bucket | undefined {
    const bucket = this.#buckets.get(key);

    if (bucket === undefined) {
      return undefined;
    }

    const now = this.now();
    const earned = (now - bucket.updatedAt) / this.refillMs;
    bucket.tokens = Math.min(this.burst, bucket.tokens + earned);
    bucket.updatedAt = now;

    if (bucket.tokens >= this.burst) {
      this.#buckets.delete(key);

      return undefined;
    }

    return bucket;
  }
}

export interface ThrottleSettings {
  readonly usernameBurst: number;
  readonly usernameRefillMs: number;
  readonly sourceBurst: number;
  readonly sourceRefillMs: number;
  readonly maxUsernames: number;
  readonly maxSources: number;
}

/**
 * Failed-login throttling per username and per source address. It bounds guesses against one
 * secret and the slow hashes a flood can cost; it never blocks a secret that was verified
 * recently (the caller checks its credential cache first), so a flood against a valid agent's
 * name does not lock that agent out while its credential is cached.
 */
export class LoginThrottle {
  readonly #usernames: FailureBuckets;
  readonly #sources: FailureBuckets;

  constructor(settings: ThrottleSettings, now: () => number = Date.now) {
    this.#usernames = new FailureBuckets(
      settings.usernameBurst,
      settings.usernameRefillMs,
      settings.maxUsernames,
      now,
    );
    this.#sources = new FailureBuckets(
      settings.sourceBurst,
      settings.sourceRefillMs,
      settings.maxSources,
      now,
    );
  }

  /** Which scope, if any, has no failures left for this attempt. */
  blocked(username: string, source: string): ThrottleScope | undefined {
    if (this.#usernames.isEmpty(username)) {
      return 'username';
    }

    return this.#sources.isEmpty(source) ? 'source' : undefined;
  }

  /** Counts a failed login; names the scope this failure used up, if it did. */
  recordFailure(username: string, source: string): ThrottleScope | undefined {
    const usernameSpent = this.#usernames.recordFailure(username);
    const sourceSpent = this.#sources.recordFailure(source);

    if (usernameSpent) {
      return 'username';
    }

    return sourceSpent ? 'source' : undefined;
  }
}
