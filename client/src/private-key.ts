import type { webcrypto } from 'node:crypto';
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describeIssues, PublicJwk, safeParse, type SigningAlgorithm } from '@beckon/shared';
import { z } from 'zod';
import { BeckonError, invalidArgument } from './errors.js';

const Base64Url = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/)
  .max(256);

/** An app's private key as `beckon keygen` writes it: Ed25519 or P-256, nothing else. */
export const PrivateJwk = z.discriminatedUnion('kty', [
  z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: Base64Url, d: Base64Url }),
  z.object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: Base64Url,
    y: Base64Url,
    d: Base64Url,
  }),
]);

export type PrivateJwk = z.infer<typeof PrivateJwk>;

export interface AppKey {
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicJwk: PublicJwk;
}

/** The signing algorithm a private key implies, or undefined for a key Beckon does not accept. */
function algorithmOf(key: KeyObject): SigningAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') {
    return 'EdDSA';
  }

  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ES256';
  }

  return undefined;
}

function isCryptoKey(value: unknown): value is webcrypto.CryptoKey {
  const { CryptoKey } = globalThis as unknown as { CryptoKey?: new () => object };

  return CryptoKey !== undefined && value instanceof CryptoKey;
}

/** Accepts a KeyObject, a WebCrypto CryptoKey or a private JWK; names `argument` on refusal. */
export function loadAppKey(key: unknown, argument: string): AppKey {
  let keyObject: KeyObject;

  if (key instanceof KeyObject) {
    keyObject = key;
  } else if (isCryptoKey(key)) {
    keyObject = KeyObject.from(key);
  } else {
    const jwk = safeParse(PrivateJwk, key);

    if (!jwk.ok) {
      throw invalidArgument(
        argument,
        `must be an Ed25519 or P-256 private JWK (${describeIssues(jwk.issues)})`,
      );
    }

    keyObject = createPrivateKey({ key: jwk.value, format: 'jwk' });
  }

  const alg = algorithmOf(keyObject);

  if (keyObject.type !== 'private' || alg === undefined) {
    throw invalidArgument(argument, 'must be an Ed25519 or P-256 private key');
  }

  const publicJwk = PublicJwk.parse(createPublicKey(keyObject).export({ format: 'jwk' }));

  return { alg, privateKey: keyObject, publicJwk };
}

/** Reads a private JWK file; the error names the file, never its content. */
export async function readAppKeyFile(path: string, argument: string): Promise<AppKey> {
  let text: string;

  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BeckonError('invalid_arguments', `${argument}: cannot read ${path}`, {
      argument,
      cause: error,
    });
  }

  let json: unknown;

  try {
    json = JSON.parse(text);
  } catch {
    throw invalidArgument(argument, `file ${path} is not JSON`);
  }

  return loadAppKey(json, `${argument} (${path})`);
}
