import {
  isMosquittoPbkdf2,
  isMosquittoSha512,
  isPlugPbkdf2,
  verifyMosquittoPbkdf2,
  verifyMosquittoSha512,
  verifyPlugPbkdf2,
} from './imported-hashes.js';
import { GENERATED_SECRET_SCRYPT, hashSecret, isScryptHash, verifyScrypt } from './scrypt-hash.js';

export type HashFormat = 'scrypt' | 'mosquitto-pbkdf2' | 'mosquitto-sha512' | 'plug-pbkdf2';

/** Which supported format a stored hash is in, or undefined when it is none of them. */
export function hashFormat(stored: string): HashFormat | undefined {
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

let decoyHash: Promise<string> | undefined;

/**
 * Spends about as long as checking a generated secret, so an unknown username answers no
 * faster than a wrong password and response times do not reveal who exists.
 */
export async function verifyAgainstDecoy(candidate: string): Promise<false> {
  decoyHash ??= hashSecret('decoy', GENERATED_SECRET_SCRYPT);
  await verifyScrypt(await decoyHash, candidate);

  return false;
}
