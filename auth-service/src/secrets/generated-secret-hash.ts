import { createHmac, randomBytes } from 'node:crypto';
import { equalInConstantTime } from './constant-time.js';
import { GENERATED_SECRET_PATTERN } from './generate-secret.js';

// The stored form of a secret this service generated: `$hmac-sha256$<salt>$<digest>`, both
// base64url, the digest being HMAC-SHA-256 of the secret keyed with a random 16-byte salt.
//
// Why not a slow KDF: a slow hash (scrypt, PBKDF2) exists to make each guess at a low-entropy
// human password expensive. A generated secret is 192 random bits; at 2^10 times the cost of
// one guess an attacker still faces 2^191 guesses on average, so the stretching adds nothing
// that matters, while the broker waits on every CONNECT and a reconnect storm pays the slow
// hash once per agent (about 1.8 ms of CPU each at scrypt N = 2^10, r = 8). What the stored form
// still has to be: one-way (HMAC-SHA-256 is preimage resistant), salted per secret (equal
// secrets and precomputed tables give nothing), and compared in constant time. API-token
// stores make the same trade for the same reason.
//
// So this format is only for secrets generateSecret made: hashGeneratedSecret refuses anything
// else, and a password a person chose or an imported hash keeps its slow format. Existing
// `$scrypt$` hashes keep verifying; the format is self-describing, so both live side by side.

const PREFIX = '$hmac-sha256$';
const SALT_BYTES = 16;
const DIGEST_BYTES = 32;
const FORMAT = /^\$hmac-sha256\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;

function digestOf(secret: string, salt: Buffer): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}

/**
 * Hashes a secret from generateSecret into the fast `$hmac-sha256$` format. Throws for any
 * other string: a human password must never get a fast hash by mistake.
 */
export function hashGeneratedSecret(secret: string): string {
  if (!GENERATED_SECRET_PATTERN.test(secret)) {
    throw new TypeError('hashGeneratedSecret takes only a secret made by generateSecret');
  }

  const salt = randomBytes(SALT_BYTES);

  return `${PREFIX}${salt.toString('base64url')}$${digestOf(secret, salt).toString('base64url')}`;
}

export function isGeneratedSecretHash(stored: string): boolean {
  return parse(stored) !== undefined;
}

function parse(stored: string): { salt: Buffer; digest: Buffer } | undefined {
  const match = FORMAT.exec(stored);

  if (match === null) {
    return undefined;
  }

  const salt = Buffer.from(match[1] ?? '', 'base64url');
  const digest = Buffer.from(match[2] ?? '', 'base64url');

  return salt.length === SALT_BYTES && digest.length === DIGEST_BYTES
    ? { salt, digest }
    : undefined;
}

/** False for a wrong secret and for a string that is not a well-formed `$hmac-sha256$` hash. */
export function verifyGeneratedSecret(stored: string, candidate: string): boolean {
  const parsed = parse(stored);

  if (parsed === undefined) {
    return false;
  }

  return equalInConstantTime(digestOf(candidate, parsed.salt), parsed.digest);
}
