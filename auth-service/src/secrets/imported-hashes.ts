import { createHash, pbkdf2 } from 'node:crypto';
import { equalInConstantTime } from './constant-time.js';

// Hash formats of existing Mosquitto setups, verified as they are so an import resets nobody's
// password. Imported hashes keep their own (slower, human-password) cost.

/** Bounds what an imported hash can make one login cost. */
const MAX_PBKDF2_ITERATIONS = 10_000_000;
const MAX_KEY_BYTES = 256;

const STANDARD_BASE64 = '[A-Za-z0-9+/]+={0,2}';

// mosquitto_passwd 2.x default: `$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512 key>`.
const MOSQUITTO_PBKDF2 = new RegExp(
  `^\\$7\\$(\\d{1,8})\\$(${STANDARD_BASE64})\\$(${STANDARD_BASE64})$`,
);

// mosquitto_passwd `-H sha512` (Mosquitto <= 1.6 default): `$6$<base64 salt>$<base64 digest>`,
// the digest being SHA-512 over the password bytes followed by the salt bytes.
const MOSQUITTO_SHA512 = new RegExp(`^\\$6\\$(${STANDARD_BASE64})\\$(${STANDARD_BASE64})$`);

// mosquitto-auth-plug / `np`: `PBKDF2$<digest>$<iterations>$<salt as literal text>$<base64 key>`.
const PLUG_PBKDF2 = new RegExp(
  `^PBKDF2\\$([a-z0-9]{1,16})\\$(\\d{1,8})\\$([^$]{1,256})\\$(${STANDARD_BASE64})$`,
);

function pbkdf2Async(
  password: string,
  salt: Buffer,
  iterations: number,
  keyBytes: number,
  digest: string,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, keyBytes, digest, (error, key) => {
      if (error === null) {
        resolve(key);
      } else {
        reject(error);
      }
    });
  });
}

function withinBounds(iterations: number, keyBytes: number): boolean {
  return (
    iterations >= 1 &&
    iterations <= MAX_PBKDF2_ITERATIONS &&
    keyBytes >= 1 &&
    keyBytes <= MAX_KEY_BYTES
  );
}

export async function verifyMosquittoPbkdf2(stored: string, candidate: string): Promise<boolean> {
  const match = MOSQUITTO_PBKDF2.exec(stored);

  if (match === null) {
    return false;
  }

  const [, iterations, salt, key] = match;
  const expected = Buffer.from(key ?? '', 'base64');

  if (!withinBounds(Number(iterations), expected.length)) {
    return false;
  }

  const derived = await pbkdf2Async(
    candidate,
    Buffer.from(salt ?? '', 'base64'),
    Number(iterations),
    expected.length,
    'sha512',
  );

  return equalInConstantTime(derived, expected);
}

export function verifyMosquittoSha512(stored: string, candidate: string): boolean {
  const match = MOSQUITTO_SHA512.exec(stored);

  if (match === null) {
    return false;
  }

  const [, salt, digest] = match;
  const derived = createHash('sha512')
    .update(candidate, 'utf8')
    .update(Buffer.from(salt ?? '', 'base64'))
    .digest();

  return equalInConstantTime(derived, Buffer.from(digest ?? '', 'base64'));
}

// The plug treats any digest word it does not know as sha256.
function plugDigest(word: string): string {
  return word === 'sha1' || word === 'sha512' ? word : 'sha256';
}

export async function verifyPlugPbkdf2(stored: string, candidate: string): Promise<boolean> {
  const match = PLUG_PBKDF2.exec(stored);

  if (match === null) {
    return false;
  }

  const [, digest, iterations, salt, key] = match;
  const encodedKey = key ?? '';
  const keyBytes = Buffer.from(encodedKey, 'base64').length;

  if (!withinBounds(Number(iterations), keyBytes)) {
    return false;
  }

  // The salt is the literal text, and the plug compares the re-encoded key as a string, so a
  // key field that is not exactly the padded standard encoding never matches.
  const derived = await pbkdf2Async(
    candidate,
    Buffer.from(salt ?? '', 'utf8'),
    Number(iterations),
    keyBytes,
    plugDigest(digest ?? ''),
  );

  return equalInConstantTime(
    Buffer.from(derived.toString('base64'), 'utf8'),
    Buffer.from(encodedKey, 'utf8'),
  );
}

export function isMosquittoPbkdf2(stored: string): boolean {
  return MOSQUITTO_PBKDF2.test(stored);
}

export function isMosquittoSha512(stored: string): boolean {
  return MOSQUITTO_SHA512.test(stored);
}

export function isPlugPbkdf2(stored: string): boolean {
  return PLUG_PBKDF2.test(stored);
}
