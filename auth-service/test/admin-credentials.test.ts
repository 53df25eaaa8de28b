import {
  BrokerTokenResponse,
  CredentialHttpResponse,
  generateSigningKeyPair,
  verifyCredential,
  type PublicJwk,
} from '@beckon/shared';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_TOKEN_AUDIENCE } from '../src/trust/broker-token.js';
import { at, call, startTestService, textAt, type TestService } from './helpers/service.js';

describe('app endpoints on the admin listener', () => {
  let test: TestService;
  let secret: string;
  let key: PublicJwk;

  beforeAll(async () => {
    test = await startTestService({ credentials: { appCredentialTtlSeconds: 300 } });

    const admin = (path: string, body?: unknown) =>
      call(`${test.adminUrl}${path}`, {
        token: test.adminToken,
        ...(body === undefined ? {} : { body }),
      });

    secret = textAt((await admin('/v1/apps', { id: 'deployer' })).body, 'secret');
    await admin('/v1/agents', { id: 'web-1', groups: ['web'] });
    await admin('/v1/agents', { id: 'web-2', groups: ['web'] });
    await admin('/v1/agents', { id: 'db-1', groups: ['db'] });
    await admin('/v1/agents', { id: 'other' });
    await admin('/v1/grants', { appId: 'deployer', groups: ['web'], actions: ['restart'] });
    await admin('/v1/grants', { appId: 'deployer', agents: ['db-1'] });
    key = (await generateSigningKeyPair('EdDSA')).publicJwk;
  });

  afterAll(async () => {
    await test.close();
  });

  // Calls an app endpoint with the app's id and secret; POST when there is a body or none is
  // needed (credentials, broker-token), GET for the agents listing.
  const asApp = (path: string, options: { body?: unknown; password?: string; app?: string } = {}) =>
    call(`${test.adminUrl}${path}`, {
      basic: [options.app ?? 'deployer', options.password ?? secret],
      method: path.startsWith('/v1/app/agents') ? 'GET' : 'POST',
      ...(options.body === undefined ? {} : { body: options.body }),
    });

  it('issues a credential that verifies against the trust root and certifies the grants', async () => {
    const result = await asApp('/v1/credentials', { body: { publicJwk: key } });

    expect(result.status).toBe(200);

    const body = CredentialHttpResponse.parse(result.body);
    const verified = await verifyCredential(body.credential, { trustRoot: body.trustRoot });

    expect(verified.ok).toBe(true);

    if (verified.ok) {
      expect(verified.value.sub).toBe('deployer');
      expect(verified.value.cnf.jwk).toEqual(key);
      expect(verified.value.grants).toEqual([
        { groups: ['web'], actions: ['restart'] },
        { agents: ['db-1'] },
      ]);
      expect(verified.value.exp - verified.value.iat).toBe(300);
    }

    expect(body.grants).toHaveLength(2);
  });

  it('pins the first key and refuses a different one afterwards', async () => {
    const other = (await generateSigningKeyPair('ES256')).publicJwk;
    const result = await asApp('/v1/credentials', { body: { publicJwk: other } });

    expect(result.status).toBe(403);

    const shown = await call(`${test.adminUrl}/v1/apps/deployer`, { token: test.adminToken });

    expect(at(shown.body, 'app', 'publicJwk')).toEqual(key);
  });

  it('refuses a wrong secret, an agent, and a disabled app', async () => {
    expect(
      (await asApp('/v1/credentials', { body: { publicJwk: key }, password: 'wrong' })).status,
    ).toBe(401);

    const agentSecret = textAt(
      (
        await call(`${test.adminUrl}/v1/agents/other/rotate-secret`, {
          token: test.adminToken,
          method: 'POST',
        })
      ).body,
      'secret',
    );

    expect(
      (
        await asApp('/v1/credentials', {
          body: { publicJwk: key },
          app: 'other',
          password: agentSecret,
        })
      ).status,
    ).toBe(401);

    await call(`${test.adminUrl}/v1/apps/deployer/disable`, {
      token: test.adminToken,
      method: 'POST',
    });

    try {
      expect((await asApp('/v1/credentials', { body: { publicJwk: key } })).status).toBe(401);
      expect((await asApp('/v1/broker-token')).status).toBe(401);
    } finally {
      await call(`${test.adminUrl}/v1/apps/deployer/enable`, {
        token: test.adminToken,
        method: 'POST',
      });
    }
  });

  it('lists the agents the app is granted, optionally by group', async () => {
    expect((await asApp('/v1/app/agents')).body).toEqual({ agents: ['db-1', 'web-1', 'web-2'] });
    expect((await asApp('/v1/app/agents?group=web')).body).toEqual({ agents: ['web-1', 'web-2'] });
    expect((await asApp('/v1/app/agents?group=a%2Fb')).status).toBe(400);
  });

  it('issues a broker JWT signed by the active trust key', async () => {
    const result = await asApp('/v1/broker-token');
    const body = BrokerTokenResponse.parse(result.body);
    const keys = test.service.directory.trustRoot().keys as JWK[];
    const { payload, protectedHeader } = await jwtVerify(body.token, createLocalJWKSet({ keys }), {
      issuer: 'beckon-test',
      audience: BROKER_TOKEN_AUDIENCE,
      algorithms: ['EdDSA'],
    });

    expect(payload.sub).toBe('deployer');
    expect(protectedHeader.kid).toBe(test.service.directory.current().trustKeys[0]?.kid);
    expect(Date.parse(body.expiresAt)).toBe((payload.exp ?? 0) * 1_000);
  });

  it('signs with the new key after a rotation while the old one still verifies', async () => {
    const before = CredentialHttpResponse.parse(
      (await asApp('/v1/credentials', { body: { publicJwk: key } })).body,
    );
    const rotated = await call(`${test.adminUrl}/v1/trust/rotate`, {
      token: test.adminToken,
      method: 'POST',
    });
    const after = CredentialHttpResponse.parse(
      (await asApp('/v1/credentials', { body: { publicJwk: key } })).body,
    );

    expect(after.trustRoot.keys).toHaveLength(2);
    expect((await verifyCredential(before.credential, { trustRoot: after.trustRoot })).ok).toBe(
      true,
    );

    const header = JSON.parse(
      Buffer.from(after.credential.split('.')[0] ?? '', 'base64url').toString(),
    ) as {
      kid: string;
    };

    expect(header.kid).toBe(textAt(rotated.body, 'active'));
  });
});
