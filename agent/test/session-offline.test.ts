import { setTimeout as sleep } from 'node:timers/promises';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Observer, removeDir, startTestAgent, tempDir } from './support/harness.js';
import { createTestTrust, unsignedCommand, type TestApp } from './support/signing.js';
import { TestRunner } from './support/test-runner.js';

const AGENT = 'agent-1';
/** Long enough to be sent and queued, short enough to lapse before the agent returns. */
const SHORT_VALIDITY_MS = 1_500;

let broker: RunningMosquitto;
let app: TestApp;
let trustRoot: Awaited<ReturnType<typeof createTestTrust>>['trustRoot'];
let observer: Observer;

beforeAll(async () => {
  broker = await startMosquitto();
  const trust = await createTestTrust();
  trustRoot = trust.trustRoot;
  app = await trust.app('app-1', [{ agents: [AGENT] }]);
  observer = await Observer.connect(broker);
});

afterAll(async () => {
  await observer.close();
  await broker.dispose();
});

describe.each([
  ['MQTT 5', 5],
  ['MQTT 3.1.1', 4],
] as const)('a persistent session over %s', (_label, protocolVersion) => {
  it('delivers commands sent while the agent was away; an expired one does not run', async () => {
    const dir = await tempDir('offline');
    const options = { broker, trustRoot, dir, protocolVersion };

    const started = Date.now();
    const first = await startTestAgent(options);

    try {
      await observer.status('online', started);
      const ping = await app.sign(unsignedCommand(app.appId, { agentId: AGENT, action: 'ping' }));
      await observer.send(ping);
      expect((await observer.result(ping.id)).outcome).toBe('succeeded');

      const stoppedAt = Date.now();
      await first.agent.stop('going away');
      const offline = await observer.status('offline', stoppedAt);
      expect(offline.reason).toBe('going away');

      const waiting = await app.sign(
        unsignedCommand(app.appId, { agentId: AGENT, action: 'echo', args: { text: 'queued' } }),
      );
      const lapsing = await app.sign(
        unsignedCommand(app.appId, {
          agentId: AGENT,
          action: 'echo',
          args: { text: 'too late' },
          validForMs: SHORT_VALIDITY_MS,
        }),
      );
      await observer.send(waiting);
      await observer.send(lapsing);
      // Let the short-lived command's validity run out while it waits at the broker.
      await sleep(Date.parse(lapsing.expiresAt) - Date.now() + 50);

      const runner = new TestRunner();
      const second = await startTestAgent({ ...options, runner, keepCredentials: true });

      try {
        // No wait for the online status here: the persistent session holds the commands
        // whether or not the subscription is renewed yet.
        expect(await observer.result(waiting.id)).toMatchObject({
          outcome: 'succeeded',
          output: { stdout: 'queued' },
        });
        expect(await observer.result(lapsing.id)).toMatchObject({
          outcome: 'expired',
          error: { code: 'expired' },
        });
        expect(runner.timesRun(lapsing.id)).toBe(0);
      } finally {
        await second.agent.stop('test over');
      }
    } finally {
      await first.agent.stop('test over');
      await removeDir(dir);
    }
  });
});
