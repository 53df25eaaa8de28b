import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DirectorySnapshot } from '../src/directory/types.js';
import { nextValue } from './helpers/backends.js';
import {
  at,
  call,
  startTestService,
  textAt,
  type CallOptions,
  type TestService,
} from './helpers/service.js';

describe('admin API', () => {
  let test: TestService;

  beforeAll(async () => {
    test = await startTestService({ loginThrottle: { maxFailures: 5, windowSeconds: 60 } });
  });

  afterAll(async () => {
    await test.close();
  });

  const admin = (path: string, options: CallOptions = {}) =>
    call(`${test.adminUrl}${path}`, { token: test.adminToken, ...options });
  const snapshot = (): DirectorySnapshot => test.service.directory.current();

  describe('authentication', () => {
    it('refuses a request without a token', async () => {
      const result = await call(`${test.adminUrl}/v1/agents`);

      expect(result.status).toBe(401);
      expect(result.body).toEqual({
        error: { code: 'unauthorized', message: 'bearer token required' },
      });
    });

    it('refuses an unknown token and a malformed header', async () => {
      expect((await admin('/v1/agents', { token: 'bat_nope' })).status).toBe(401);
      expect(
        (await call(`${test.adminUrl}/v1/agents`, { headers: { authorization: 'Bearer' } })).status,
      ).toBe(400);
    });
  });

  describe('agents', () => {
    it('adds an agent, shows its secret once, and the directory has it at once', async () => {
      const added = await admin('/v1/agents', { body: { id: 'web-1', groups: ['eu'] } });

      expect(added.status).toBe(201);
      expect(at(added.body, 'agent')).toMatchObject({
        id: 'web-1',
        kind: 'agent',
        enabled: true,
        groups: ['eu'],
      });

      const secret = textAt(added.body, 'secret');

      expect(snapshot().principals.get('web-1')).toMatchObject({ enabled: true, groups: ['eu'] });
      expect(await test.service.directory.verifySecret('web-1', secret)).toBe(true);
      expect(JSON.stringify((await admin('/v1/agents/web-1')).body)).not.toContain(secret);
    });

    it('lists and shows agents', async () => {
      const list = await admin('/v1/agents');

      expect(list.status).toBe(200);
      expect(at(list.body, 'agents', 0, 'id')).toBe('web-1');
      expect((await admin('/v1/agents/web-1')).body).toMatchObject({ agent: { id: 'web-1' } });
      expect((await admin('/v1/agents/nobody')).status).toBe(404);
    });

    it('refuses a second principal with the same id', async () => {
      expect((await admin('/v1/agents', { body: { id: 'web-1' } })).status).toBe(409);
    });

    it('disables and enables an agent, in effect for the next check', async () => {
      const disabled = await admin('/v1/agents/web-1/disable', { method: 'POST' });

      expect(at(disabled.body, 'agent', 'enabled')).toBe(false);
      expect(snapshot().principals.get('web-1')?.enabled).toBe(false);

      await admin('/v1/agents/web-1/enable', { method: 'POST' });

      expect(snapshot().principals.get('web-1')?.enabled).toBe(true);
    });

    it('rotates a secret: the old one stops working, the new one works', async () => {
      const added = await admin('/v1/agents', { body: { id: 'rot-1' } });
      const old = textAt(added.body, 'secret');
      const rotated = await admin('/v1/agents/rot-1/rotate-secret', { method: 'POST' });
      const fresh = textAt(rotated.body, 'secret');

      expect(fresh).not.toBe(old);
      expect(await test.service.directory.verifySecret('rot-1', old)).toBe(false);
      expect(await test.service.directory.verifySecret('rot-1', fresh)).toBe(true);
    });

    it('removes an agent everywhere', async () => {
      await admin('/v1/agents', { body: { id: 'gone-1' } });

      expect((await admin('/v1/agents/gone-1', { method: 'DELETE' })).status).toBe(200);
      expect(snapshot().principals.has('gone-1')).toBe(false);
      expect((await admin('/v1/agents/gone-1')).status).toBe(404);
    });

    it('tells onChange listeners about every change', async () => {
      const changed = nextValue<DirectorySnapshot>((deliver) =>
        test.service.directory.onChange(deliver),
      );

      await admin('/v1/agents', { body: { id: 'noticed' } });

      expect((await changed).principals.has('noticed')).toBe(true);
    });
  });

  describe('apps, keys and superusers', () => {
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };

    it('adds an app with a pinned key, clears and sets the key', async () => {
      const added = await admin('/v1/apps', { body: { id: 'deployer', publicJwk: jwk } });

      expect(added.status).toBe(201);
      expect(at(added.body, 'app', 'publicJwk')).toEqual(jwk);

      const cleared = await admin('/v1/apps/deployer/key', { method: 'DELETE' });

      expect(at(cleared.body, 'app', 'publicJwk')).toBeUndefined();

      const set = await admin('/v1/apps/deployer/key', { method: 'PUT', body: { publicJwk: jwk } });

      expect(at(set.body, 'app', 'publicJwk')).toEqual(jwk);
      expect((await admin('/v1/agents/deployer')).status).toBe(404);
    });

    it('refuses a private key where a public one belongs', async () => {
      const result = await admin('/v1/apps/deployer/key', {
        method: 'PUT',
        body: { publicJwk: { ...jwk, d: 'secret-part' } },
      });

      expect(result.status).toBe(400);
      expect(at(result.body, 'error', 'code')).toBe('invalid_input');
    });

    it('makes and unmakes superusers', async () => {
      await admin('/v1/superusers/deployer', { method: 'PUT' });

      expect(snapshot().principals.get('deployer')?.superuser).toBe(true);
      expect(at((await admin('/v1/superusers')).body, 'superusers', 0, 'id')).toBe('deployer');

      await admin('/v1/superusers/deployer', { method: 'DELETE' });

      expect(snapshot().principals.get('deployer')?.superuser).toBe(false);
    });
  });

  describe('groups, grants and rules', () => {
    it('manages groups and memberships', async () => {
      expect((await admin('/v1/groups', { body: { name: 'web' } })).status).toBe(201);
      expect((await admin('/v1/groups', { body: { name: 'web' } })).status).toBe(409);

      await admin('/v1/groups/web/members/web-1', { method: 'PUT' });

      expect(snapshot().principals.get('web-1')?.groups).toEqual(['eu', 'web']);
      expect((await admin('/v1/groups/web')).body).toMatchObject({ group: { members: ['web-1'] } });
      expect((await admin('/v1/groups/web/members/nobody', { method: 'PUT' })).status).toBe(404);

      await admin('/v1/groups/web/members/web-1', { method: 'DELETE' });

      expect(snapshot().principals.get('web-1')?.groups).toEqual(['eu']);
      expect((await admin('/v1/groups/web', { method: 'DELETE' })).status).toBe(200);
      expect((await admin('/v1/groups/web')).status).toBe(404);
    });

    it('grants an app agents and groups, limited to actions, and revokes it', async () => {
      const created = await admin('/v1/grants', {
        body: { appId: 'deployer', agents: ['web-1'], groups: ['eu'], actions: ['restart'] },
      });

      expect(created.status).toBe(201);

      const id = textAt(created.body, 'grant', 'id');

      expect(snapshot().grants).toContainEqual({
        id,
        appId: 'deployer',
        agents: ['web-1'],
        groups: ['eu'],
        actions: ['restart'],
      });
      expect(at((await admin('/v1/grants?appId=deployer')).body, 'grants', 0, 'id')).toBe(id);
      expect((await admin('/v1/grants', { body: { appId: 'deployer' } })).status).toBe(400);
      expect((await admin('/v1/grants', { body: { appId: 'nobody', agents: ['x'] } })).status).toBe(
        404,
      );

      await admin(`/v1/grants/${id}`, { method: 'DELETE' });

      expect(snapshot().grants.some((grant) => grant.id === id)).toBe(false);
    });

    it('adds and removes ACL rules, refusing malformed filters', async () => {
      const created = await admin('/v1/rules', {
        body: {
          subject: { kind: 'group', name: 'eu' },
          pattern: 'metrics/%u/#',
          access: ['write'],
        },
      });

      expect(created.status).toBe(201);

      const id = textAt(created.body, 'rule', 'id');

      expect(snapshot().rules).toContainEqual({
        id,
        subject: { kind: 'group', name: 'eu' },
        pattern: 'metrics/%u/#',
        access: ['write'],
        effect: 'allow',
      });

      for (const pattern of ['a/#/b', 'a/b+', 'x/%c', 'a\u0000b']) {
        const refused = await admin('/v1/rules', {
          body: { subject: { kind: 'all' }, pattern, access: ['read'] },
        });

        expect(refused.status, pattern).toBe(400);
      }

      await admin(`/v1/rules/${id}`, { method: 'DELETE' });

      expect(snapshot().rules).toEqual([]);
    });
  });

  describe('enrollment tokens', () => {
    it('creates (token shown once), lists and revokes', async () => {
      const created = await admin('/v1/enroll-tokens', { body: { uses: 2, groups: ['eu'] } });

      expect(created.status).toBe(201);

      const token = textAt(created.body, 'token');
      const id = textAt(created.body, 'enrollToken', 'id');
      const list = await admin('/v1/enroll-tokens');

      expect(list.text).not.toContain(token);
      expect(at(list.body, 'enrollTokens', 0)).toMatchObject({
        id,
        state: 'active',
        usesAllowed: 2,
      });

      const revoked = await admin(`/v1/enroll-tokens/${id}`, { method: 'DELETE' });

      expect(at(revoked.body, 'enrollToken', 'state')).toBe('revoked');
    });
  });

  describe('trust root', () => {
    it('shows, rotates with overlap, and retires only a retiring key', async () => {
      const before = await admin('/v1/trust');
      const first = textAt(before.body, 'keys', 0, 'kid');

      expect(at(before.body, 'keys', 0, 'status')).toBe('active');
      expect(before.text).not.toContain('"d"');

      const rotated = await admin('/v1/trust/rotate', { method: 'POST' });

      expect(rotated.body).toMatchObject({ retiring: [first] });
      expect(
        snapshot()
          .trustKeys.map((key) => key.status)
          .sort(),
      ).toEqual(['active', 'retiring']);

      const active = textAt(rotated.body, 'active');

      expect((await admin(`/v1/trust/keys/${active}`, { method: 'DELETE' })).status).toBe(409);
      expect((await admin(`/v1/trust/keys/${first}`, { method: 'DELETE' })).status).toBe(200);
      expect(snapshot().trustKeys.map((key) => key.kid)).toEqual([active]);
    });
  });

  describe('audit log and explain', () => {
    it('records who changed what, without secrets', async () => {
      const result = await admin('/v1/audit?limit=500');
      const entries = at(result.body, 'entries') as unknown[];

      expect(entries.length).toBeGreaterThan(10);
      expect(entries).toContainEqual(
        expect.objectContaining({
          actor: 'admin:at_test',
          action: 'agent.create',
          target: 'agent:web-1',
        }),
      );
      expect(result.text).not.toMatch(/secret"\s*:|scrypt|bet_/);
      expect((await admin('/v1/audit?limit=0')).status).toBe(400);
    });

    it('explains a decision of the broker checks in words', async () => {
      const denied = await admin('/v1/explain?username=web-1&topic=a%2Fb&access=write');

      expect(denied.body).toMatchObject({
        username: 'web-1',
        topic: 'a/b',
        access: 'write',
        allowed: false,
      });
      expect(typeof at(denied.body, 'reason')).toBe('string');

      const allowed = await admin(
        '/v1/explain?username=web-1&topic=beckon%2Fv1%2Fagents%2Fweb-1%2Fresults&access=write',
      );

      expect(allowed.body).toMatchObject({ allowed: true });
      expect((await admin('/v1/explain?username=web-1&topic=a&access=publish')).status).toBe(400);
    });
  });

  describe('malformed input', () => {
    it('refuses malformed JSON, a wrong content type and unknown fields', async () => {
      const bad = await admin('/v1/agents', { rawBody: '{"id": ' });

      expect(bad.status).toBe(400);
      expect(at(bad.body, 'error', 'code')).toBe('bad_request');

      const wrongType = await admin('/v1/agents', {
        rawBody: 'id=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });

      expect(wrongType.status).toBe(415);

      const unknown = await admin('/v1/agents', { body: { id: 'x1', role: 'root' } });

      expect(unknown.status).toBe(400);
      expect(textAt(unknown.body, 'error', 'message')).toContain('role');
    });

    it('refuses an oversized body', async () => {
      const result = await admin('/v1/agents', {
        body: { id: 'big', groups: ['x'.repeat(70_000)] },
      });

      expect(result.status).toBe(413);
      expect(at(result.body, 'error', 'code')).toBe('payload_too_large');
    });

    it.each(['a+b', 'a%23b', 'a%2Fb', 'a%00b', '%E0%A4%A', 'a%25u'])(
      'refuses the id %s without touching the store',
      async (id) => {
        const result = await admin(`/v1/agents/${id}/disable`, { method: 'POST' });

        expect(result.status).toBe(400);
      },
    );

    it('refuses bodies with hostile ids', async () => {
      for (const id of ['a+b', 'a#b', 'a/b', 'a\u0000b', '', 'x'.repeat(129)]) {
        expect((await admin('/v1/agents', { body: { id } })).status, JSON.stringify(id)).toBe(400);
      }
    });

    it('reads a path starting with // as a path, not as a host (regression: 500)', async () => {
      // new URL('//?q', base) took the path for a protocol-relative URL: a 500 for '//?q', and
      // '//host/v1/agents' was routed as /v1/agents.
      const empty = await admin('//?limit=0');
      const hostLike = await admin('//evil.example/v1/agents');

      expect(empty.status).toBe(404);
      expect(at(empty.body, 'error', 'code')).toBe('not_found');
      expect(hostLike.status).toBe(404);
    });

    it('answers 404 for unknown routes and 405 for wrong methods', async () => {
      expect((await admin('/v1/nothing')).status).toBe(404);

      const wrong = await admin('/v1/agents', { method: 'PATCH' });

      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('GET, POST');
    });
  });

  describe('operations', () => {
    it('serves health, readiness and metrics', async () => {
      expect((await call(`${test.adminUrl}/healthz`)).status).toBe(200);
      expect((await call(`${test.adminUrl}/readyz`)).body).toEqual({ status: 'ready' });
      expect((await call(`${test.publicUrl}/readyz`)).status).toBe(200);
      expect((await call(`http://127.0.0.1:${test.service.ports.broker}/healthz`)).status).toBe(
        200,
      );
      expect((await call(`${test.adminUrl}/metrics`)).text).toMatch(/^# TYPE beckon_auth_/m);
    });

    it('hands everything else on the broker listener to the broker checks', async () => {
      const broker = `http://127.0.0.1:${test.service.ports.broker}/acl`;
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('x:').toString('base64')}`,
      };
      const denied = await call(broker, {
        rawBody: 'username=x&password=&topic=y&acc=1&clientid=client id not available',
        headers,
      });
      // A body without the plug's five fields is malformed: 400, which the plug takes as no.
      const malformed = await call(broker, { rawBody: 'username=x&topic=y&acc=1', headers });

      expect(denied.status).toBe(403);
      expect(malformed.status).toBe(400);
    });

    it('throttles a source that keeps presenting bad tokens', async () => {
      const statuses: number[] = [];

      for (let attempt = 0; attempt < 7; attempt += 1) {
        statuses.push((await admin('/v1/agents', { token: `bat_wrong${attempt}` })).status);
      }

      expect(statuses.slice(-1)).toEqual([429]);
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(5);
    });
  });
});
