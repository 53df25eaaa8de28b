import { isBeckonError, type BeckonClient } from '@beckon/client';
import type { EmbeddedBroker } from '@beckon/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp } from '../harness/app.js';
import { startTestAgent, type RunningAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { startAuthedBroker } from '../harness/broker.js';

// Changes made through the admin API hold on the broker's next check: nothing is restarted.

const SEND_TIMEOUT_MS = 3_000;
/** The embedded broker's read cache (harness/broker.ts) plus a margin. */
const READ_CACHE_MS = 1_500;

let auth: RunningAuth;
let broker: EmbeddedBroker;
let agent: RunningAgent;
let client: BeckonClient;

const timedOut = (error: unknown): boolean => isBeckonError(error) && error.code === 'timed_out';

beforeAll(async () => {
  auth = await startAuth();
  broker = await startAuthedBroker(auth);
  agent = await startTestAgent(auth, 'db-01', { brokerUrl: broker.url });
  const app = await addApp(auth, 'ops', [{ agents: ['db-01'] }]);
  client = await connectApp(auth, broker.url, app);
});

afterAll(async () => {
  await client.close();
  await agent.stop();
  await broker.close();
  await auth.close();
});

describe('revocation at runtime', () => {
  it('stops an app at once when it is disabled, and lets it back when enabled', async () => {
    expect((await client.send('db-01', 'ping', {})).outcome).toBe('succeeded');

    await auth.admin.post('/v1/apps/ops/disable');
    await expect(client.send('db-01', 'ping', {}, { timeout: SEND_TIMEOUT_MS })).rejects.toSatisfy(
      timedOut,
    );

    await auth.admin.post('/v1/apps/ops/enable');
    await new Promise((resolve) => setTimeout(resolve, READ_CACHE_MS));
    expect((await client.send('db-01', 'ping', {})).outcome).toBe('succeeded');
  });

  it('cuts an agent off when it is disabled, and brings it back when enabled', async () => {
    await auth.admin.post('/v1/agents/db-01/disable');
    await new Promise((resolve) => setTimeout(resolve, READ_CACHE_MS));
    await expect(client.send('db-01', 'ping', {}, { timeout: SEND_TIMEOUT_MS })).rejects.toSatisfy(
      timedOut,
    );

    await auth.admin.post('/v1/agents/db-01/enable');
    await new Promise((resolve) => setTimeout(resolve, READ_CACHE_MS));
    expect((await client.send('db-01', 'ping', {})).outcome).toBe('succeeded');
  });

  it('stops an app whose grant is removed', async () => {
    const grants = (await auth.admin.get('/v1/grants?appId=ops'))['grants'] as { id: string }[];

    for (const grant of grants) {
      await auth.admin.delete(`/v1/grants/${grant.id}`);
    }

    await expect(client.send('db-01', 'ping', {}, { timeout: SEND_TIMEOUT_MS })).rejects.toSatisfy(
      timedOut,
    );
  });
});
