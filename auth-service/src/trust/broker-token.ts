import type { TrustRootSigner } from '@beckon/shared';
import { SignJWT } from 'jose';

import { BROKER_TOKEN_AUDIENCE } from '../broker/options.js';

/** `aud` of the JWT an app presents to the broker's jwt backend; the checks verify it. */
export { BROKER_TOKEN_AUDIENCE };

export interface BrokerTokenRequest {
  readonly issuer: string;
  readonly appId: string;
  readonly ttlSeconds: number;
}

/** A short-lived JWT that lets an app log in to the broker as itself through the jwt backend. */
export async function issueBrokerToken(
  signer: TrustRootSigner,
  request: BrokerTokenRequest,
): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1_000);
  const expires = now + request.ttlSeconds;
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT' })
    .setIssuer(request.issuer)
    .setSubject(request.appId)
    .setAudience(BROKER_TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(expires)
    .sign(signer.privateKey);

  return { token, expiresAt: new Date(expires * 1_000) };
}
