import {
  CLOCK_TOLERANCE_SECONDS,
  isPrincipalId,
  MAX_TOKEN_LENGTH,
  SIGNING_ALGORITHMS,
} from '@beckon/shared';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import type { DirectorySnapshot } from '../directory/types.js';

const MILLIS_PER_SECOND = 1_000;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export type TokenResult =
  | { readonly ok: true; readonly subject: string }
  | { readonly ok: false; readonly problem: string; readonly fault?: unknown };

interface CachedToken {
  readonly subject: string;
  readonly expiresAt: number;
}

/**
 * Verifies the JWTs apps use as MQTT usernames through a jwt backend: signature by a trust-root
 * key of this snapshot (EdDSA or ES256 only, so `alg: none` and an HMAC keyed with a public key
 * never pass), `exp`, `nbf`, issuer and audience. A verified token is remembered until its
 * `exp`; whether its subject may still log in is decided afresh on every check, so disabling a
 * principal takes effect at once even for a remembered token. One verifier per snapshot: a
 * rotated-out key drops every token it signed.
 */
export class TokenVerifier {
  readonly #keys: ReturnType<typeof createLocalJWKSet> | undefined;
  readonly #verified = new Map<string, CachedToken>();

  constructor(
    readonly snapshot: DirectorySnapshot,
    readonly audience: string,
    readonly maxEntries: number,
    readonly now: () => number = Date.now,
  ) {
    const keys = snapshot.trustKeys.map((key) => ({ ...key.publicJwk, kid: key.kid }) as JWK);
    this.#keys = keys.length === 0 ? undefined : createLocalJWKSet({ keys });
  }

  /** The subject of a token verified before and not yet expired, without any crypto. */
  cached(token: string): string | undefined {
    const entry = this.#verified.get(token);

    if (entry === undefined) {
      return undefined;
    }

    if (entry.expiresAt <= this.now()) {
      this.#verified.delete(token);

      return undefined;
    }

    return entry.subject;
  }

  async verify(token: string): Promise<TokenResult> {
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      return { ok: false, problem: 'not a compact JWS' };
    }

    if (this.#keys === undefined) {
      return { ok: false, problem: 'the trust root has no keys' };
    }

    try {
      const { payload } = await jwtVerify(token, this.#keys, {
        algorithms: [...SIGNING_ALGORITHMS],
        issuer: this.snapshot.issuer,
        audience: this.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(this.now()),
      });

      if (!isPrincipalId(payload.sub) || typeof payload.exp !== 'number') {
        return { ok: false, problem: 'the subject is not a principal id' };
      }

      this.#remember(token, payload.sub, payload.exp * MILLIS_PER_SECOND);

      return { ok: true, subject: payload.sub };
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) {
        return { ok: false, problem: error.code };
      }

      // Not the token's fault as far as jose can tell (a broken trust key, say): still a deny,
      // since the broker must never be told "error" for a token, but the caller logs it.
      return { ok: false, problem: 'verification failed', fault: error };
    }
  }

  #remember(token: string, subject: string, expiresAt: number): void {
    if (this.#verified.size >= this.maxEntries) {
      const oldest = this.#verified.keys().next();

      if (oldest.done !== true) {
        this.#verified.delete(oldest.value);
      }
    }

    this.#verified.set(token, { subject, expiresAt });
  }
}
