import { startEmbeddedBroker, type EmbeddedBroker } from '@beckon/local';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuth, type RunningAuth } from '../harness/auth.js';

// Regression: found by the agent-commands fuzz run. The broker fetches a subscriber's read
// decision when a message is published and looks it up again, synchronously, when Aedes
// forwards the message. A decision that was fresh at the first step but expired before the
// second dropped the message silently, after the publisher already had its PUBACK: a QoS 1
// command lost. With `readCacheMs: 0` (the plug's `acl_cacheseconds 0`, "no cache") every
// decision had expired at the second step, so nothing was delivered at all. Decisions now live
// at least the forwarding window, and one close to expiry is fetched again at publish.

let auth: RunningAuth;
let broker: EmbeddedBroker;
let subscriber: MqttClient;
let publisher: MqttClient;
const received: string[] = [];

beforeAll(async () => {
  auth = await startAuth();
  const agentSecret = await auth.admin.addAgent('cache-agent');
  const root = await auth.admin.post('/v1/apps', { id: 'cache-root', superuser: true });
  broker = await startEmbeddedBroker({
    checks: auth.plug,
    logger: pino({ level: 'silent' }),
    port: 0,
    readCacheMs: 0,
  });
  subscriber = await mqtt.connectAsync(broker.url, {
    protocolVersion: 4,
    username: 'cache-agent',
    password: agentSecret,
    reconnectPeriod: 0,
  });
  subscriber.on('message', (_topic, payload) => received.push(payload.toString()));
  await subscriber.subscribeAsync('beckon/v1/agents/cache-agent/commands', { qos: 1 });
  publisher = await mqtt.connectAsync(broker.url, {
    protocolVersion: 4,
    username: 'cache-root',
    password: String(root['secret']),
    reconnectPeriod: 0,
  });
});

afterAll(async () => {
  await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  await broker.close();
  await auth.close();
});

describe('the embedded broker without a read cache', () => {
  it('delivers an acknowledged QoS 1 message to an allowed subscriber', async () => {
    // The PUBACK comes after Aedes has routed the message, and the SUBACK of a later
    // subscribe is written to the subscriber after anything routed to it before: once it
    // arrives, a delivered message would already be here.
    await publisher.publishAsync('beckon/v1/agents/cache-agent/commands', 'first', { qos: 1 });
    await subscriber.subscribeAsync('beckon/v1/agents/cache-agent/commands', { qos: 1 });

    expect(received).toEqual(['first']);
  });
});
