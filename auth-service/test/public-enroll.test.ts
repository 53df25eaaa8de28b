import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentTrustResponse, EnrollResponse } from '@beckon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/secrets/generate-secret.js';
import { tokenDigest } from '../src/secrets/token-digest.js';
import { at, call, startTestService, textAt, type TestService } from './helpers/service.js';

describe('public API', () => {
  let test: TestService;

  beforeAll(async () => {
    test = await startTestService({
      brokerUrl: 'mqtts://broker.example.com:8883',
      publicLimits: { burst: 1_000, perSecond: 1_000 },
      loginThrottle: { maxFailures: 50, windowSeconds: 60 },
    });
  });

  afterAll(async () => {
    await test.close();
  });

  async function enrollToken(body: Record<string, unknown> = {}): Promise<string> {
    const result = await call(`${test.adminUrl}/v1/enroll-tokens`, {
      token: test.adminToken,
      body,
    });

    expect(result.status).toBe(201);

    return textAt(result.body, 'token');
  }

  const enroll = (body: Record<string, unknown>) => call(`${test.publicUrl}/v1/enroll`, { body });

  describe('enrollment', () => {
    it('creates the agent, applies the token groups and returns everything the agent needs', async () => {
      const token = await enrollToken({ groups: ['eu', 'web'] });
      const result = await enroll({ token, agentId: 'edge-1', hostname: 'edge-1.example' });

      expect(result.status).toBe(201);

      const body = EnrollResponse.parse(result.body);

      expect(body).toMatchObject({
        agentId: 'edge-1',
        username: 'edge-1',
        groups: ['eu', 'web'],
        brokerUrl: 'mqtts://broker.example.com:8883',
      });
      expect(body.trustRoot.issuer).toBe('beckon-test');
      expect(body.trustRoot.keys.map((key) => key.kid)).toEqual(
        test.service.directory.current().trustKeys.map((key) => key.kid),
      );
      expect(test.service.directory.current().principals.get('edge-1')?.groups).toEqual([
        'eu',
        'web',
      ]);
      expect(await test.service.directory.verifySecret('edge-1', body.password)).toBe(true);
    });

    it('uses up a one-time token', async () => {
      const token = await enrollToken();

      expect((await enroll({ token, agentId: 'once-1' })).status).toBe(201);
      expect((await enroll({ token, agentId: 'once-2' })).status).toBe(401);
      expect(test.service.directory.current().principals.has('once-2')).toBe(false);
    });

    it('answers an unknown, expired, used or revoked token the same way', async () => {
      const expired = generateToken('bet');

      await test.service.store.mutate('test', async (writer) => {
        await writer.insertEnrollToken({
          id: 'et_expired',
          digest: tokenDigest(expired),
          expiresAt: Date.now() - 1_000,
          usesAllowed: 1,
          groups: [],
        });
        await writer.audit({ action: 'enroll-token.create', target: 'enroll-token:et_expired' });
      });

      const used = await enrollToken();

      await enroll({ token: used, agentId: 'used-1' });

      const created = await call(`${test.adminUrl}/v1/enroll-tokens`, {
        token: test.adminToken,
        body: {},
      });
      const revoked = textAt(created.body, 'token');

      await call(`${test.adminUrl}/v1/enroll-tokens/${textAt(created.body, 'enrollToken', 'id')}`, {
        token: test.adminToken,
        method: 'DELETE',
      });

      const answers = await Promise.all(
        [generateToken('bet'), expired, used, revoked].map((token) =>
          enroll({ token, agentId: 'never' }),
        ),
      );

      for (const answer of answers) {
        expect(answer.status).toBe(401);
        expect(answer.body).toEqual({
          error: { code: 'unauthorized', message: 'enrollment token is not valid' },
        });
      }
    });

    it('names the agent after the host when neither the token nor the request does', async () => {
      const result = await enroll({ token: await enrollToken(), hostname: 'db-7' });

      expect(at(result.body, 'agentId')).toBe('db-7');

      const second = await enroll({ token: await enrollToken(), hostname: 'db-7' });

      expect(textAt(second.body, 'agentId')).toMatch(/^db-7-[0-9a-f]{6}$/);
    });

    it('re-keys an existing agent only with a token made for that agent', async () => {
      const first = EnrollResponse.parse(
        (await enroll({ token: await enrollToken(), agentId: 'rk-1' })).body,
      );
      const stranger = await enroll({ token: await enrollToken(), agentId: 'rk-1' });

      expect(stranger.status).toBe(409);
      expect(await test.service.directory.verifySecret('rk-1', first.password)).toBe(true);

      const fixed = await enrollToken({ agentId: 'rk-1' });
      const wrongId = await enroll({ token: fixed, agentId: 'rk-2' });

      expect(wrongId.status).toBe(403);

      const rekeyed = EnrollResponse.parse((await enroll({ token: fixed })).body);

      expect(rekeyed.agentId).toBe('rk-1');
      expect(await test.service.directory.verifySecret('rk-1', first.password)).toBe(false);
      expect(await test.service.directory.verifySecret('rk-1', rekeyed.password)).toBe(true);
    });

    it('refuses malformed requests with a 4xx', async () => {
      for (const body of [
        {},
        { token: 'short' },
        { token: 'x'.repeat(40), agentId: 'a/b' },
        { token: 'x'.repeat(40), extra: 1 },
      ]) {
        expect((await enroll(body)).status, JSON.stringify(body)).toBe(400);
      }

      expect((await call(`${test.publicUrl}/v1/enroll`, { rawBody: '{' })).status).toBe(400);
    });
  });

  describe('agent trust refresh', () => {
    it('returns the trust root and groups to an agent with its credentials', async () => {
      const enrolled = EnrollResponse.parse(
        (await enroll({ token: await enrollToken({ groups: ['blue'] }), agentId: 'tr-1' })).body,
      );
      const result = await call(`${test.publicUrl}/v1/agent/trust`, {
        basic: ['tr-1', enrolled.password],
      });

      expect(result.status).toBe(200);
      expect(AgentTrustResponse.parse(result.body)).toEqual({
        agentId: 'tr-1',
        groups: ['blue'],
        trustRoot: enrolled.trustRoot,
      });
    });

    it('reveals nothing without valid credentials', async () => {
      const wrong = await call(`${test.publicUrl}/v1/agent/trust`, { basic: ['tr-1', 'nope'] });
      const unknown = await call(`${test.publicUrl}/v1/agent/trust`, { basic: ['ghost', 'nope'] });
      const none = await call(`${test.publicUrl}/v1/agent/trust`);

      expect([wrong.status, unknown.status, none.status]).toEqual([401, 401, 401]);
      expect(wrong.body).toEqual(unknown.body);
      expect(wrong.text).not.toContain('kid');
    });

    it('refuses a disabled agent', async () => {
      const enrolled = EnrollResponse.parse(
        (await enroll({ token: await enrollToken(), agentId: 'tr-off' })).body,
      );

      await call(`${test.adminUrl}/v1/agents/tr-off/disable`, {
        token: test.adminToken,
        method: 'POST',
      });

      expect(
        (await call(`${test.publicUrl}/v1/agent/trust`, { basic: ['tr-off', enrolled.password] }))
          .status,
      ).toBe(401);
    });
  });
});

describe('public API limits and files', () => {
  let test: TestService;

  beforeAll(async () => {
    test = await startTestService({
      publicLimits: { burst: 3, perSecond: 0.1 },
      loginThrottle: { maxFailures: 2, windowSeconds: 60 },
    });
  });

  afterAll(async () => {
    await test.close();
  });

  it('rate-limits each source', async () => {
    const statuses: number[] = [];

    for (let request = 0; request < 5; request += 1) {
      statuses.push((await call(`${test.publicUrl}/healthz`)).status);
    }

    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });
});

describe('public API static files', () => {
  let test: TestService;
  const folder = mkdtempSync(join(tmpdir(), 'beckon-static-'));

  beforeAll(async () => {
    writeFileSync(join(folder, 'install.sh'), '#!/bin/sh\necho install\n');
    writeFileSync(join(folder, 'beckon-agent.tgz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    mkdirSync(join(folder, 'sub'));
    writeFileSync(join(folder, 'sub', 'inner.txt'), 'hidden');
    writeFileSync(join(folder, '..secret'), 'x');
    symlinkSync('/etc/hostname', join(folder, 'link.txt'));
    test = await startTestService({ staticDir: folder });
  });

  afterAll(async () => {
    await test.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('serves the install script and agent files with their content types', async () => {
    const script = await call(`${test.publicUrl}/install.sh`);

    expect(script.status).toBe(200);
    expect(script.text).toBe('#!/bin/sh\necho install\n');
    expect(script.headers.get('content-type')).toContain('text/x-shellscript');

    const bundle = await call(`${test.publicUrl}/agent/beckon-agent.tgz`);

    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toBe('application/gzip');
  });

  it.each([
    '/agent/',
    '/agent/sub',
    '/agent/sub%2Finner.txt',
    '/agent/..%2F..%2Fetc%2Fpasswd',
    '/agent/..secret',
    '/agent/link.txt',
    '/agent/missing.tgz',
    '/agent/sub/inner.txt',
  ])('serves nothing for %s', async (path) => {
    const result = await call(`${test.publicUrl}${path}`);

    expect(result.status).toBe(404);
    expect(result.text).not.toContain('hidden');
  });
});
