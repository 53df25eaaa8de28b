import { startEmbeddedBroker, type EmbeddedBroker } from '@beckon/local';
import { agentTopics } from '@beckon/shared';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { reportFigure } from './support/figures.js';

// How long a revoked principal keeps working at the broker. The auth-service forgets every
// cached answer on the change itself; what remains is the broker's own cache of read
// decisions (the embedded broker's readCacheMs, the plug's auth_opt_acl_cacheseconds), which
// keeps deliveries to a revoked subscriber going until it expires. Publishes are not cached by
// the embedded broker, so a revoked publisher is refused at its next message.

/** The broker's read-decision cache in this test: the bound every figure must respect. */
const READ_CACHE_MS = 2_000;
/** Scheduling slack on a shared 2-core machine: the bound is the cache, not this. */
const SLACK_MS = 2_000;
const PUBLISH_EVERY_MS = 20;

let auth: RunningAuth;
let broker: EmbeddedBroker;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];

async function login(username: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    protocolVersion: 4,
    username,
    password: secrets.get(username) ?? '',
    reconnectPeriod: 0,
  });
  clients.push(client);

  return client;
}

/**
 * Publishes numbered messages until `stop` resolves and returns the send time of the last one
 * the subscriber received, so the caller can see how long after a revocation traffic still
 * flowed.
 */
async function lastDelivered(
  publisher: MqttClient,
  subscriber: MqttClient,
  topic: string,
  revoke: () => Promise<void>,
): Promise<{ revokedAt: number; lastSentAt: number; answeredAt: number }> {
  const sentAt: number[] = [];
  let lastReceived = -1;
  subscriber.on('message', (_topic, payload) => {
    lastReceived = Math.max(lastReceived, Number(payload.toString()));
  });
  await subscriber.subscribeAsync(topic, { qos: 1 });

  const state = { publishing: true };
  const loop = (async () => {
    while (state.publishing) {
      sentAt.push(Date.now());
      await publisher.publishAsync(topic, String(sentAt.length - 1), { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_EVERY_MS));
    }
  })();

  // Traffic flows before the revocation.
  while (lastReceived < 5) {
    await new Promise((resolve) => setTimeout(resolve, PUBLISH_EVERY_MS));
  }

  const revokedAt = Date.now();
  await revoke();
  const answeredAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, READ_CACHE_MS + SLACK_MS));
  state.publishing = false;
  await loop;

  return { revokedAt, answeredAt, lastSentAt: sentAt[lastReceived] ?? 0 };
}

beforeAll(async () => {
  auth = await startAuth();
  broker = await startEmbeddedBroker({
    checks: auth.plug,
    logger: pino({ level: 'silent' }),
    port: 0,
    readCacheMs: READ_CACHE_MS,
  });

  for (const id of ['rev-agent-1', 'rev-agent-2', 'rev-agent-3']) {
    secrets.set(id, await auth.admin.addAgent(id));
  }

  for (const id of ['rev-app-1', 'rev-app-2']) {
    secrets.set(id, await auth.admin.addApp(id));
    await auth.admin.grant(id, { agents: ['rev-agent-1', 'rev-agent-2', 'rev-agent-3'] });
  }

  const root = await auth.admin.post('/v1/apps', { id: 'rev-root', superuser: true });
  secrets.set('rev-root', String(root['secret']));
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await broker.close();
  await auth.close();
});

describe('revocation', () => {
  it('refuses a disabled app at its very next publish', async () => {
    const app = await login('rev-app-1');
    const watcher = await login('rev-root');
    const topic = agentTopics('rev-agent-1').commands;
    const timing = await lastDelivered(app, watcher, topic, async () => {
      await auth.admin.post('/v1/apps/rev-app-1/disable');
    });
    const lagMs = timing.lastSentAt - timing.answeredAt;
    reportFigure('revocation', {
      what: 'app disabled, its publishes',
      lagAfterAdminAnswerMs: lagMs,
    });

    expect(lagMs).toBeLessThanOrEqual(0);
  });

  it('stops deliveries to a removed agent within the broker read cache time', async () => {
    const agent = await login('rev-agent-2');
    // A superuser publishes, so only the agent's read side can stop the traffic (an app's
    // write to a removed agent is refused at once, which would hide the read cache).
    const root = await login('rev-root');
    const topic = agentTopics('rev-agent-2').commands;
    const timing = await lastDelivered(root, agent, topic, async () => {
      await auth.admin.delete('/v1/agents/rev-agent-2');
    });
    const lagMs = timing.lastSentAt - timing.revokedAt;
    reportFigure('revocation', {
      what: 'agent removed, deliveries to it',
      readCacheMs: READ_CACHE_MS,
      lagAfterAdminCallMs: lagMs,
    });

    expect(lagMs).toBeLessThanOrEqual(READ_CACHE_MS + SLACK_MS);
  });

  it("refuses an app's publish to a removed agent at once, though its grant names it", async () => {
    const app = await login('rev-app-2');
    const watcher = await login('rev-root');
    const topic = agentTopics('rev-agent-1').commands;
    const timing = await lastDelivered(app, watcher, topic, async () => {
      await auth.admin.delete('/v1/agents/rev-agent-1');
    });
    const lagMs = timing.lastSentAt - timing.answeredAt;
    reportFigure('revocation', {
      what: 'agent removed, apps publishing to it',
      lagAfterAdminAnswerMs: lagMs,
    });

    expect(lagMs).toBeLessThanOrEqual(0);
  });

  it('answers the next broker check with the new directory and refuses a new login', async () => {
    const topic = agentTopics('rev-agent-3').results;
    expect(await auth.plug.checkAcl('rev-agent-3', topic, 2)).toBe('yes');

    const started = Date.now();
    await auth.admin.post('/v1/agents/rev-agent-3/disable');
    const write = await auth.plug.checkAcl('rev-agent-3', topic, 2);
    const connect = await auth.plug.authenticate('rev-agent-3', secrets.get('rev-agent-3') ?? '');
    reportFigure('revocation', {
      what: 'agent disabled, auth-service answers',
      adminCallToRefusalMs: Date.now() - started,
    });

    expect(write).toBe('no');
    expect(connect).toBe('no');
  });
});
