import { createHmac, randomBytes } from 'node:crypto';

const HMAC_KEY_BYTES = 32;

/** Whose secret a cache entry vouches for, and which stored secret it was checked against. */
export interface CredentialOwner {
  readonly username: string;
  /** The directory's secretStamp for the username when the secret was checked. */
  readonly stamp: string | undefined;
}

interface Entry extends CredentialOwner {
  readonly expiresAt: number;
}

/**
 * Secrets verified a short while ago, so a reconnect storm does not re-run the slow hash for
 * every client. Keys are an HMAC of username and secret under a random per-process key: no
 * plaintext is kept, and a leaked heap dump gives nothing to test guesses against offline
 * without the key (which lives in the same heap, so this is defence in depth, not a vault).
 * Each entry remembers which stored secret it was checked against, so a directory change
 * drops only the entries it concerns (retain).
 */
export class CredentialCache {
  readonly #key = randomBytes(HMAC_KEY_BYTES);
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
    readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

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
    const entry = this.#entries.get(digest);

    if (entry === undefined) {
      return false;
    }

    if (entry.expiresAt <= this.now()) {
      this.#entries.delete(digest);

      return false;
    }

    return true;
  }

  add(digest: string, owner: CredentialOwner): void {
    if (this.ttlMs === 0) {
      return;
    }

    this.#entries.delete(digest);

    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();

      if (oldest.done !== true) {
        this.#entries.delete(oldest.value);
      }
    }

    this.#entries.set(digest, { ...owner, expiresAt: this.now() + this.ttlMs });
  }

  /** Keeps only the entries whose owner `keep` still vouches for. */
  retain(keep: (owner: CredentialOwner) => boolean): void {
    for (const [digest, entry] of this.#entries) {
      if (!keep(entry)) {
        this.#entries.delete(digest);
      }
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
