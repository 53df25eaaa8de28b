import { randomBytes } from 'node:crypto';

/**
 * 24 random bytes are 192 bits of entropy, well above the 128 bits a secret needs to be out of
 * reach of offline guessing whatever hash protects it.
 */
const SECRET_BYTES = 24;

/** What generateSecret returns: the 24 bytes in base64url, 32 characters. */
export const GENERATED_SECRET_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/** A new MQTT password or API secret: shown once to its owner, then only hashed. */
export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** A bearer token with a short prefix that says what it is when it turns up in the wrong place. */
export function generateToken(prefix: string): string {
  return `${prefix}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
}
