import { createHmac } from 'node:crypto';
import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDirectory } from './helpers/memory-directory.js';
import { sendRaw } from './helpers/raw-http.js';
import { startChecks, type RunningChecks } from './helpers/start-checks.js';
import { brokerToken, makeTrustKey, TEST_ISSUER, type TestTrustKey } from './helpers/trust-root.js';

// Broker JWTs through the plug's jwt backend: only a token signed by a trust-root key, in date,
// for this issuer and audience, naming an enabled principal, gets in, on every URI.

const AUTH_BODY = 'topic=&acc=-1&clientid=';
const ACL_BODY =
  'topic=beckon%2Fv1%2Fapps%2Fapp-p%2Freplies&acc=4&clientid=client id not available';

function jwtRequest(path: string, token: string, body: string): string {
  return [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1:18080',
    'Accept: */*',
    `Authorization: Bearer ${token}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Content-Type: application/x-www-form-urlencoded',
    '',
    body,
  ].join('\r\n');
}

async function statusOf(service: RunningChecks, path: string, token: string): Promise<number> {
  const body = path === '/acl' ? ACL_BODY : AUTH_BODY;

  return (await sendRaw(service.port, jwtRequest(path, token, body))).status;
}

function forge(header: object, payload: object, signature = ''): string {
  const encode = (value: object) => base64url.encode(JSON.stringify(value));

  return `${encode(header)}.${encode(payload)}.${signature}`;
}

describe('broker JWTs (plug jwt backend)', () => {
  let key: TestTrustKey;
  let otherKey: TestTrustKey;
  let directory: MemoryDirectory;
  let service: RunningChecks;

  beforeAll(async () => {
    key = await makeTrustKey('k1');
    otherKey = await makeTrustKey('k1');
    directory = new MemoryDirectory({
      principals: [
        { id: 'app-p', kind: 'app' },
        { id: 'app-off', kind: 'app', enabled: false },
        { id: 'root', kind: 'app', superuser: true },
      ],
      trustKeys: [key.trustKey, (await makeTrustKey('p256', 'ES256')).trustKey],
    });
    service = await startChecks(directory);
  });

  afterAll(async () => {
    await service.close();
  });

  it('lets a valid token in on every URI, as far as the role allows', async () => {
    const token = await brokerToken(key, { sub: 'app-p' });

    expect(await statusOf(service, '/auth', token)).toBe(200);
    expect(await statusOf(service, '/superuser', token)).toBe(403);
    expect(await statusOf(service, '/acl', token)).toBe(200);
  });

  it('answers the superuser question from the directory', async () => {
    const token = await brokerToken(key, { sub: 'root' });

    expect(await statusOf(service, '/superuser', token)).toBe(200);
  });

  it('accepts ES256 tokens from a P-256 trust key', async () => {
    const p256 = await makeTrustKey('p256', 'ES256');
    const local = new MemoryDirectory({
      principals: [{ id: 'app-p', kind: 'app' }],
      trustKeys: [p256.trustKey],
    });
    const other = await startChecks(local);

    try {
      expect(await statusOf(other, '/auth', await brokerToken(p256, { sub: 'app-p' }))).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('refuses alg none', async () => {
    const token = forge(
      { alg: 'none' },
      { sub: 'app-p', iss: TEST_ISSUER, aud: 'beckon-broker', exp: 9e9 },
    );

    expect(await statusOf(service, '/auth', token)).toBe(403);
    expect(await statusOf(service, '/acl', token)).toBe(403);
  });

  it('refuses HS256 made with the public key as the MAC secret', async () => {
    const claims = { sub: 'app-p', iss: TEST_ISSUER, aud: 'beckon-broker', exp: 9e9 };
    const unsigned = forge({ alg: 'HS256', kid: 'k1' }, claims).slice(0, -1);
    const secret = JSON.stringify(key.trustKey.publicJwk);
    const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');

    expect(await statusOf(service, '/auth', `${unsigned}.${signature}`)).toBe(403);

    const macWithX = createHmac('sha256', Buffer.from(key.trustKey.publicJwk.x, 'base64url'))
      .update(unsigned)
      .digest('base64url');
    expect(await statusOf(service, '/auth', `${unsigned}.${macWithX}`)).toBe(403);
  });

  it('refuses an expired token and one not valid yet', async () => {
    const expired = await brokerToken(key, { sub: 'app-p', expiresIn: -3_600 });
    const early = await brokerToken(key, { sub: 'app-p', notBefore: 3_600 });

    expect(await statusOf(service, '/auth', expired)).toBe(403);
    expect(await statusOf(service, '/auth', early)).toBe(403);
  });

  it('refuses a wrong issuer and a wrong audience (an agent credential is not a login)', async () => {
    const wrongIssuer = await brokerToken(key, { sub: 'app-p', iss: 'https://evil.test' });
    const wrongAudience = await brokerToken(key, { sub: 'app-p', aud: 'beckon-agent' });

    expect(await statusOf(service, '/auth', wrongIssuer)).toBe(403);
    expect(await statusOf(service, '/auth', wrongAudience)).toBe(403);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const token = await brokerToken(key, { sub: 'app-p' });
    const [header, , signature] = token.split('.');
    const payload = base64url.encode(
      JSON.stringify({ sub: 'root', iss: TEST_ISSUER, aud: 'beckon-broker', exp: 9e9 }),
    );

    expect(await statusOf(service, '/superuser', `${header}.${payload}.${signature}`)).toBe(403);
  });

  it('refuses a token signed by an unknown key, even one that claims a known kid', async () => {
    const impostor = await brokerToken(otherKey, { sub: 'app-p' });
    const unknownKid = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: 'nobody' })
      .setSubject('app-p')
      .setIssuer(TEST_ISSUER)
      .setAudience('beckon-broker')
      .setExpirationTime('1h')
      .sign(key.privateKey);

    expect(await statusOf(service, '/auth', impostor)).toBe(403);
    expect(await statusOf(service, '/auth', unknownKid)).toBe(403);
  });

  it('refuses a valid token for a disabled or unknown principal', async () => {
    expect(await statusOf(service, '/auth', await brokerToken(key, { sub: 'app-off' }))).toBe(403);
    expect(await statusOf(service, '/auth', await brokerToken(key, { sub: 'ghost' }))).toBe(403);
    expect(await statusOf(service, '/auth', await brokerToken(key, { sub: 'a/b' }))).toBe(403);
  });

  it('refuses a remembered token as soon as its principal is disabled', async () => {
    const token = await brokerToken(key, { sub: 'app-p' });
    expect(await statusOf(service, '/acl', token)).toBe(200);

    directory.update((current) => ({
      ...current,
      principals: (current.principals ?? []).map((principal) =>
        principal.id === 'app-p' ? { ...principal, enabled: false } : principal,
      ),
    }));

    expect(await statusOf(service, '/acl', token)).toBe(403);
    expect(await statusOf(service, '/auth', token)).toBe(403);

    directory.update((current) => ({
      ...current,
      principals: (current.principals ?? []).map((principal) =>
        principal.id === 'app-p' ? { ...principal, enabled: true } : principal,
      ),
    }));
  });

  it('remembers a verified token instead of verifying it again', async () => {
    const token = await brokerToken(key, { sub: 'app-p' });
    await statusOf(service, '/auth', token);
    await statusOf(service, '/superuser', token);
    await statusOf(service, '/acl', token);

    expect(service.metrics.render()).toMatch(/cache="token",result="hit"\} [1-9]/);
  });

  it('never writes a token into its logs', async () => {
    const token = await brokerToken(key, { sub: 'app-p' });
    await statusOf(service, '/auth', token);
    const signature = token.split('.')[2]!;

    expect(service.rawLogs.join('\n')).not.toContain(signature);
  });
});

describe('trust-root rotation', () => {
  it('refuses tokens of a key that was removed from the trust root at once', async () => {
    const old = await makeTrustKey('old');
    const next = await makeTrustKey('next');
    const directory = new MemoryDirectory({
      principals: [{ id: 'app-p', kind: 'app' }],
      trustKeys: [old.trustKey, { ...next.trustKey, status: 'active' }],
    });
    const service = await startChecks(directory);

    try {
      const oldToken = await brokerToken(old, { sub: 'app-p' });
      expect(await statusOf(service, '/auth', oldToken)).toBe(200);

      directory.update((current) => ({ ...current, trustKeys: [next.trustKey] }));

      expect(await statusOf(service, '/auth', oldToken)).toBe(403);
      expect(await statusOf(service, '/auth', await brokerToken(next, { sub: 'app-p' }))).toBe(200);
    } finally {
      await service.close();
    }
  });
});
