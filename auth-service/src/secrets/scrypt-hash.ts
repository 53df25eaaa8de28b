import { randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { equalInConstantTime } from './constant-time.js';

export interface ScryptParameters {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/**
 * The parameters generated secrets were hashed with before they got the fast `$hmac-sha256$`
 * format (generated-secret-hash.ts says why that is enough for them); those hashes still
 * verify, and this stays hashSecret's default. N = 2^10, r = 8 costs about 1 MiB and 1-2 ms on
 * one core of the target machines. Stored hashes carry their parameters, so they can be raised
 * later without breaking old hashes.
 */
export const GENERATED_SECRET_SCRYPT: ScryptParameters = Object.freeze({ logN: 10, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const MAX_LOG_N = 20;
const MAX_R = 32;
const MAX_P = 16;
const PREFIX = '$scrypt$';

// `$scrypt$ln=10,r=8,p=1$<salt>$<key>`, both base64url.
const FORMAT =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{8,64})\$([A-Za-z0-9_-]{16,128})$/;

function derive(
  secret: string,
  salt: Buffer,
  keyBytes: number,
  params: ScryptParameters,
): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1 };

  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyBytes, options, (error, key) => {
      if (error === null) {
        resolve(key);
      } else {
        reject(error);
      }
    });
  });
}

/** Hashes a secret into the self-describing `$scrypt$` format. */
export async function hashSecret(
  secret: string,
  params: ScryptParameters = GENERATED_SECRET_SCRYPT,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, KEY_BYTES, params);

  return `${PREFIX}ln=${params.logN},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export function isScryptHash(stored: string): boolean {
  return parseScrypt(stored) !== undefined;
}

function parseScrypt(
  stored: string,
): { params: ScryptParameters; salt: Buffer; key: Buffer } | undefined {
  const match = FORMAT.exec(stored);

  if (match === null) {
    return undefined;
  }

  const [, logN, r, p, salt, key] = match;
  const params = { logN: Number(logN), r: Number(r), p: Number(p) };

  if (params.logN < 1 || params.logN > MAX_LOG_N || params.r < 1 || params.r > MAX_R) {
    return undefined;
  }

  if (params.p < 1 || params.p > MAX_P) {
    return undefined;
  }

  return {
    params,
    salt: Buffer.from(salt ?? '', 'base64url'),
    key: Buffer.from(key ?? '', 'base64url'),
  };
}

/** False for a wrong secret and for a hash that is not a well-formed `$scrypt$` string. */
export async function verifyScrypt(stored: string, candidate: string): Promise<boolean> {
  const parsed = parseScrypt(stored);

  if (parsed === undefined) {
    return false;
  }

  const key = await derive(candidate, parsed.salt, parsed.key.length, parsed.params);

  return equalInConstantTime(key, parsed.key);
}
