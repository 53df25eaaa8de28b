import {
  isMosquittoPbkdf2,
  isMosquittoSha512,
  isPlugPbkdf2,
  verifyMosquittoPbkdf2,
  verifyMosquittoSha512,
  verifyPlugPbkdf2,
} from './imported-hashes.js';
import {
  hashGeneratedSecret,
  isGeneratedSecretHash,
  verifyGeneratedSecret,
} from './generated-secret-hash.js';
import { generateSecret } from './generate-secret.js';
import { isScryptHash, verifyScrypt } from './scrypt-hash.js';

export type HashFormat =
  'hmac-sha256' | 'scrypt' | 'mosquitto-pbkdf2' | 'mosquitto-sha512' | 'plug-pbkdf2';

/** Which supported format a stored hash is in, or undefined when it is none of them. */
export function hashFormat(stored: string): HashFormat | undefined {
  if (isGeneratedSecretHash(stored)) {
    return 'hmac-sha256';
  }

  if (isScryptHash(stored)) {
    return 'scrypt';
  }

  if (isMosquittoPbkdf2(stored)) {
    return 'mosquitto-pbkdf2';
  }

  if (isMosquittoSha512(stored)) {
    return 'mosquitto-sha512';
  }

  return isPlugPbkdf2(stored) ? 'plug-pbkdf2' : undefined;
}

/** Checks a password against a stored hash of any supported format; false for anything else. */
export async function verifyHash(stored: string, candidate: string): Promise<boolean> {
  const format = hashFormat(stored);

  switch (format) {
    case 'hmac-sha256':
      return verifyGeneratedSecret(stored, candidate);
    case 'scrypt':
      return verifyScrypt(stored, candidate);
    case 'mosquitto-pbkdf2':
      return verifyMosquittoPbkdf2(stored, candidate);
    case 'mosquitto-sha512':
      return verifyMosquittoSha512(stored, candidate);
    case 'plug-pbkdf2':
      return verifyPlugPbkdf2(stored, candidate);
    case undefined:
      return false;
  }
}

// A hash of a secret nobody holds, made once per process.
const decoyHash = hashGeneratedSecret(generateSecret());

/**
 * Spends about as long as checking a generated secret (the format every enrolled agent and
 * created app has), so an unknown username answers no faster than a wrong password and
 * response times do not reveal who exists.
 */
export function verifyAgainstDecoy(candidate: string): Promise<false> {
  verifyGeneratedSecret(decoyHash, candidate);

  return Promise.resolve(false);
}
