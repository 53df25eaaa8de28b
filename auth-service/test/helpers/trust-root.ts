import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { TrustKey } from '../../src/directory/types.js';

/** A trust-root key pair for tests, with the public half as the directory publishes it. */
export interface TestTrustKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly trustKey: TrustKey;
}

export async function makeTrustKey(
  kid: string,
  alg: 'EdDSA' | 'ES256' = 'EdDSA',
): Promise<TestTrustKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const jwk = await exportJWK(publicKey);
  const publicJwk =
    alg === 'EdDSA'
      ? { kty: 'OKP' as const, crv: 'Ed25519' as const, x: jwk.x ?? '' }
      : { kty: 'EC' as const, crv: 'P-256' as const, x: jwk.x ?? '', y: jwk.y ?? '' };

  return { kid, privateKey, trustKey: { kid, publicJwk, status: 'active' } };
}

export interface TokenClaims {
  readonly sub: string;
  readonly iss?: string;
  readonly aud?: string;
  /** Seconds from now; negative for an expired token. */
  readonly expiresIn?: number;
  /** Seconds from now for `nbf`. */
  readonly notBefore?: number;
}

export const TEST_ISSUER = 'https://auth.beckon.test';

/** A broker JWT as the auth-service would issue it. */
export async function brokerToken(key: TestTrustKey, claims: TokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1_000);
  const jwt = new SignJWT({})
    .setProtectedHeader({
      alg: key.trustKey.publicJwk.kty === 'OKP' ? 'EdDSA' : 'ES256',
      kid: key.kid,
    })
    .setSubject(claims.sub)
    .setIssuer(claims.iss ?? TEST_ISSUER)
    .setAudience(claims.aud ?? 'beckon-broker')
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.expiresIn ?? 3_600));

  if (claims.notBefore !== undefined) {
    jwt.setNotBefore(now + claims.notBefore);
  }

  return jwt.sign(key.privateKey);
}
