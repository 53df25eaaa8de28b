import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCredentials, writeCredentials } from '../src/enroll/credentials-file.js';
import { FAST_RECONNECT, Observer, removeDir, startTestAgent, tempDir } from './support/harness.js';
import { createTestTrust } from './support/signing.js';

const run = promisify(execFile);
const AGENT = 'agent-1';
const OBSERVER = { username: 'observer', password: 'observer-password' };
const AUTH_TEST_TIMEOUT_MS = 40_000;

let broker: RunningMosquitto;
let passwordFile: string;
let trustRoot: Awaited<ReturnType<typeof createTestTrust>>['trustRoot'];
let observer: Observer;

async function setPassword(username: string, password: string): Promise<void> {
  await run('mosquitto_passwd', ['-b', passwordFile, username, password]);
}

beforeAll(async () => {
  const dir = await tempDir('passwords');
  passwordFile = join(dir, 'passwords');
  await run('mosquitto_passwd', ['-c', '-b', passwordFile, AGENT, 'right-password']);
  await setPassword(OBSERVER.username, OBSERVER.password);
  broker = await startMosquitto({
    allowAnonymous: false,
    extraConfig: [`password_file ${passwordFile}`],
  });
  trustRoot = (await createTestTrust()).trustRoot;
  observer = await Observer.connect(broker, { login: OBSERVER });
});

afterAll(async () => {
  await observer.close();
  await broker.dispose();
  await removeDir(join(passwordFile, '..'));
});

describe.each([
  ['MQTT 5', 5],
  ['MQTT 3.1.1', 4],
] as const)('a broker that refuses the credentials (%s)', (_label, protocolVersion) => {
  it(
    'is logged clearly and retried on the slow schedule until the file holds the right password',
    async () => {
      const dir = await tempDir('auth');
      const harness = await startTestAgent({
        broker,
        trustRoot,
        dir,
        protocolVersion,
        password: 'wrong-password',
      });

      try {
        const scheduled = await harness.logs.waitForCount(
          (line) => line.msg === 'reconnect scheduled' && line['failure'] === 'auth',
          2,
          'two retries after refusals',
        );
        const refusals = harness.logs.filter((line) =>
          line.msg.startsWith('broker refused the credentials'),
        );

        expect(refusals[0]?.level).toBe(50);
        expect(JSON.stringify(harness.logs.items)).not.toContain('wrong-password');
        // The slow schedule: half to all of authBase * 2^n, never the fast first retry.
        expect(scheduled[0]?.['delayMs']).toBeGreaterThanOrEqual(FAST_RECONNECT.authBaseMs / 2);
        expect(scheduled[1]?.['delayMs']).toBeGreaterThanOrEqual(FAST_RECONNECT.authBaseMs);
        expect(harness.agent.state).toBe('reconnecting');

        const fixedAt = Date.now();
        const credentials = await readCredentials(harness.credentialsFile);
        await writeCredentials(harness.credentialsFile, {
          ...credentials,
          password: 'right-password',
        });
        const online = await observer.status('online', fixedAt);

        expect(online.agentId).toBe(AGENT);
        expect(harness.agent.state).toBe('connected');
      } finally {
        await harness.agent.stop('test over');
        await removeDir(dir);
      }
    },
    AUTH_TEST_TIMEOUT_MS,
  );
});

it(
  'picks up a rotated password from the credentials file when it reconnects',
  async () => {
    const dir = await tempDir('rotate');
    await setPassword(AGENT, 'right-password');
    const started = Date.now();
    const harness = await startTestAgent({ broker, trustRoot, dir, password: 'right-password' });

    try {
      await observer.status('online', started);

      // The auth-service rotates the secret: the broker learns the new one and the agent's
      // file is rewritten; the running agent must use it on its next connection.
      await setPassword(AGENT, 'rotated-password');
      const credentials = await readCredentials(harness.credentialsFile);
      await writeCredentials(harness.credentialsFile, {
        ...credentials,
        password: 'rotated-password',
      });
      const rotatedAt = Date.now();
      await broker.restart();
      await observer.status('online', rotatedAt);

      expect(harness.logs.filter((line) => line.msg === 'using rotated credentials')).toHaveLength(
        1,
      );
      expect(harness.logs.filter((line) => line.msg.startsWith('broker refused'))).toEqual([]);
    } finally {
      await harness.agent.stop('test over');
      await removeDir(dir);
    }
  },
  AUTH_TEST_TIMEOUT_MS,
);
