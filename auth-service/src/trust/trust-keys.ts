import {
  generateSigningKeyPair,
  type PublicJwk,
  type SigningAlgorithm,
  type TrustRoot,
  type TrustRootSigner,
} from '@beckon/shared';
import { calculateJwkThumbprint, exportJWK, importJWK, type JWK } from 'jose';
import type { TrustKeyRecord } from '../store/records.js';
import type { StoreWriter } from '../store/store.js';

export interface NewTrustKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly publicJwk: PublicJwk;
  readonly privateJwk: string;
}

/** A fresh trust-root key pair; its kid is the RFC 7638 thumbprint of the public key. */
export async function createTrustKey(alg: SigningAlgorithm = 'EdDSA'): Promise<NewTrustKey> {
  const pair = await generateSigningKeyPair(alg);
  const kid = await calculateJwkThumbprint(pair.publicJwk as JWK);
  const privateJwk = await exportJWK(pair.privateKey);

  return {
    kid,
    alg,
    publicJwk: { ...pair.publicJwk, kid, alg, use: 'sig' } as PublicJwk,
    privateJwk: JSON.stringify({ ...privateJwk, kid, alg }),
  };
}

/**
 * Makes `key` the active signing key; the previous active key becomes `retiring` and keeps
 * verifying until an admin removes it, so agents holding the old trust root have time to
 * refresh.
 */
export async function activateTrustKey(writer: StoreWriter, key: NewTrustKey): Promise<string[]> {
  const now = Date.now();
  const retired: string[] = [];

  for (const existing of await writer.listTrustKeys()) {
    if (existing.status === 'active') {
      await writer.setTrustKeyStatus(existing.kid, 'retiring', now);
      retired.push(existing.kid);
    }
  }

  await writer.insertTrustKey({ ...key, status: 'active' });

  return retired;
}

/** The public half agents receive and verifiers trust. */
export function trustRootOf(keys: readonly TrustKeyRecord[], issuer: string): TrustRoot {
  return {
    issuer,
    keys: keys.map((key) => ({ ...key.publicJwk, kid: key.kid })),
  };
}

/** Turns the stored private JWK of a key back into something jose can sign with. */
export async function signerOf(key: TrustKeyRecord): Promise<TrustRootSigner> {
  const privateKey = await importJWK(JSON.parse(key.privateJwk) as JWK, key.alg);

  if (privateKey instanceof Uint8Array) {
    throw new Error(`trust key ${key.kid} is not an asymmetric key`);
  }

  return { privateKey, alg: key.alg, kid: key.kid };
}
