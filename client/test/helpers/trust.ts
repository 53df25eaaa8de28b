import {
  generateSigningKeyPair,
  issueCredential,
  type Grant,
  type PublicJwk,
  type TrustRoot,
} from '@beckon/shared';
import type { CryptoKey } from 'jose';

/** A trust root made in the test, standing in for the auth-service's signing key. */
export interface TestTrust {
  readonly trustRoot: TrustRoot;
  issue(
    appId: string,
    publicJwk: PublicJwk,
    grants: readonly Grant[],
    ttlSeconds: number,
  ): Promise<string>;
}

export async function createTrust(): Promise<TestTrust> {
  const root = await generateSigningKeyPair('EdDSA');
  const kid = 'test-root-1';
  const issuer = 'beckon-test-auth';
  const privateKey: CryptoKey = root.privateKey;

  return {
    trustRoot: { issuer, keys: [{ ...root.publicJwk, kid }] },
    issue: (appId, publicJwk, grants, ttlSeconds) =>
      issueCredential(
        { privateKey, alg: 'EdDSA', kid },
        { issuer, appId, publicJwk, grants, ttlSeconds },
      ),
  };
}
