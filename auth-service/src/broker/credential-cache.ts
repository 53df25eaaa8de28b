import { createHmac, randomBytes } from 'node:crypto';

const HMAC_KEY_BYTES = 32;

/**
 * Secrets verified a short while ago, so a reconnect storm does not re-run the slow hash for
 * every client. Keys are an HMAC of username and secret under a random per-process key: no
 * plaintext is kept, and a leaked heap dump gives nothing to test guesses against offline
 * without the key (which lives in the same heap, so this is defence in depth, not a vault).
 */
export class CredentialCache {
  readonly #key = randomBytes(HMAC_KEY_BYTES);
  readonly #expiries = new Map<string, number>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
    readonly now: () => number = Date.now,
  ) {}

  /** The cache key for a credential; also used to share one in-flight hash between requests. */
  digest(username: string, secret: string): string {
    // A valid username has no NUL, so the separator keeps ("ab", "c") apart from ("a", "bc").
    return createHmac('sha256', this.#key)
      .update(username)
      .update('\u0000')
      .update(secret)
      .digest('base64');
  }

  has(digest: string): boolean {
    const expiresAt = this.#expiries.get(digest);

    if (expiresAt === undefined) {
      return false;
    }

    if (expiresAt <= this.now()) {
      this.#expiries.delete(digest);

      return false;
    }

    return true;
  }

  add(digest: string): void {
    if (this.ttlMs === 0) {
      return;
    }

    this.#expiries.delete(digest);

    if (this.#expiries.size >= this.maxEntries) {
      const oldest = this.#expiries.keys().next();

      if (oldest.done !== true) {
        this.#expiries.delete(oldest.value);
      }
    }

    this.#expiries.set(digest, this.now() + this.ttlMs);
  }

  clear(): void {
    this.#expiries.clear();
  }
}
