import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { generateSigningKeyPair } from '@beckon/shared';
import { startMosquitto } from '@beckon/test-support';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import { APP_ID, APP_SECRET, memoryLogger, startWorld } from './helpers/setup.js';
import { startStandIn } from './helpers/stand-in-agent.js';

describe('credentials', () => {
  it('renews the credential before it expires, so commands keep verifying', async () => {
    // A 3-second credential is renewed at 2 s; after 4 s only a renewed one still verifies.
    const world = await startWorld({ ttlSeconds: 3 });
    const agent = await startStandIn({
      url: world.broker.url,
      agentId: 'renew-01',
      groups: ['all'],
      trustRoot: world.trust.trustRoot,
    });

    try {
      const { logger, lines } = memoryLogger();
      const client = await world.connectApp({ logger });
      expect(world.auth.issued()).toBe(1);

      await expect.poll(() => world.auth.issued(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      await expect
        .poll(() => world.auth.issued(), { timeout: 10_000, interval: 250 })
        .toBeGreaterThanOrEqual(3);

      await expect(client.send('renew-01', 'ping', {})).resolves.toMatchObject({
        outcome: 'succeeded',
      });
      // Signed with a renewed credential, not the one from connect (verifyMessage tolerates
      // 30 s of clock skew, so the old one would still pass: compare them instead).
      const used = agent.received.at(-1)!.auth!.credential;
      expect(used).not.toBe(world.auth.credentials[0]);
      expect(world.auth.credentials.slice(1)).toContain(used);
      expect(lines().some((line) => line['msg'] === 'credential renewed')).toBe(true);
      expect(JSON.stringify(lines())).not.toContain(APP_SECRET);
    } finally {
      await agent.stop();
      await world.dispose();
    }
  });

  it('fails sends with credential_unavailable once the credential expired unrenewed', async () => {
    const world = await startWorld({ ttlSeconds: 2 });

    try {
      const client = await world.connectApp();
      world.auth.failWith(503);
      // Renewal fails from 1.3 s on; at 2 s the only credential has expired.
      await new Promise((resolve) => setTimeout(resolve, 2_100));

      await expect(client.send('anyone', 'ping', {})).rejects.toMatchObject({
        code: 'credential_unavailable',
      });
    } finally {
      await world.dispose();
    }
  });

  it('logs in with a broker token and reconnects with the renewed one', async () => {
    const world = await startWorld({ ttlSeconds: 3 });
    const { logger, lines } = memoryLogger();

    try {
      const client = await world.connectApp({ brokerLogin: 'token', logger });
      const [first] = world.auth.brokerTokens;
      expect(world.broker.log()).toContain(`u'${first!}'`);

      // Renewed at 2 s of its 3 s life: the session drops and comes back with the new token.
      await new Promise<void>((resolve) => client.once('connected', () => resolve()));

      const second = world.auth.brokerTokens[1]!;
      await expect.poll(() => world.broker.log()).toContain(`u'${second}'`);
      expect(client.connected).toBe(true);
      const logged = JSON.stringify(lines());
      expect(logged).not.toContain(first);
      expect(logged).not.toContain(second);
      expect(logged).not.toContain(APP_SECRET);
    } finally {
      await world.dispose();
    }
  });

  it('fails connect with credential_unavailable when the auth-service issues none', async () => {
    const world = await startWorld();
    world.auth.failWith(503);

    try {
      await expect(world.connectApp()).rejects.toMatchObject({ code: 'credential_unavailable' });
      await expect(world.connectApp({ secret: 'wrong-secret' })).rejects.toMatchObject({
        code: 'not_authorised',
      });
    } finally {
      await world.dispose();
    }
  });

  it('fails connect with not_authorised when the broker refuses the app secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beckon-client-passwd-'));
    const passwords = join(dir, 'passwords');
    await writeFile(passwords, '');
    execFileSync('mosquitto_passwd', ['-b', passwords, APP_ID, APP_SECRET]);
    const broker = await startMosquitto({
      allowAnonymous: false,
      extraConfig: [`password_file ${passwords}`],
    });

    try {
      const ok = await connect({
        url: broker.url,
        appId: APP_ID,
        secret: APP_SECRET,
        unsigned: true,
      });
      expect(ok.connected).toBe(true);
      await ok.close();

      for (const mqttVersion of ['5', '3.1.1'] as const) {
        await expect(
          connect({ url: broker.url, appId: APP_ID, secret: 'wrong', unsigned: true, mqttVersion }),
        ).rejects.toMatchObject({ code: 'not_authorised' });
      }
    } finally {
      await broker.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loads an app key from a private JWK file and names the file when it is wrong', async () => {
    const world = await startWorld();
    const key = await generateSigningKeyPair('ES256');
    const { exportJWK } = await import('jose');
    const file = join(world.broker.dir, 'app.jwk');
    await writeFile(file, JSON.stringify(await exportJWK(key.privateKey)));
    const broken = join(world.broker.dir, 'broken.jwk');
    await writeFile(broken, JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }));

    try {
      const client = await world.connectApp({ privateKeyFile: file, privateKey: undefined });
      expect(client.connected).toBe(true);
      await expect(
        world.connectApp({ privateKeyFile: broken, privateKey: undefined }),
      ).rejects.toMatchObject({
        code: 'invalid_arguments',
        message: expect.stringContaining(broken) as unknown,
      });
    } finally {
      await world.dispose();
    }
  });
});
