import { agentTopic } from '@beckon/shared';
import type { BeckonClient } from '@beckon/client';
import { isBeckonError } from '@beckon/client';
import type { EmbeddedBroker } from '@beckon/local';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp } from '../harness/app.js';
import { startTestAgent, type RunningAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { startAuthedBroker } from '../harness/broker.js';

// The broker's gate, end to end: what the auth-service refuses never reaches an agent, and an
// agent's credentials open only its own topics.

const QUIET_MS = 1_500;

let auth: RunningAuth;
let broker: EmbeddedBroker;
let web01: RunningAgent;
let web02: RunningAgent;
const raw: MqttClient[] = [];
const clients: BeckonClient[] = [];

async function rawLogin(username: string, password: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    username,
    password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    clientId: `raw-${username}-${raw.length}`,
  });
  raw.push(client);

  return client;
}

function received(client: MqttClient): string[] {
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));

  return seen;
}

beforeAll(async () => {
  auth = await startAuth();
  broker = await startAuthedBroker(auth);
  const setup = { brokerUrl: broker.url, groups: ['web'] };
  web01 = await startTestAgent(auth, 'web-01', setup);
  web02 = await startTestAgent(auth, 'web-02', setup);
});

afterAll(async () => {
  await Promise.all(raw.map((client) => client.endAsync(true)));
  await Promise.all(clients.map((client) => client.close()));
  await web01.stop();
  await web02.stop();
  await broker.close();
  await auth.close();
});

describe('the broker gate', () => {
  it('drops commands from an app without a grant, so the agent never sees them', async () => {
    // A superuser watches the agent's results: had the command arrived, the agent would have
    // answered it (with a not_granted refusal) there.
    const auditor = await addApp(auth, 'auditor', []);
    await auth.admin.request('PUT', '/v1/superusers/auditor');
    const asAuditor = await rawLogin('auditor', auditor.secret);
    const answers = received(asAuditor);
    await asAuditor.subscribeAsync(agentTopic('web-01', 'results'), { qos: 1 });
    const intruder = await addApp(auth, 'intruder', []);
    const client = await connectApp(auth, broker.url, intruder);
    clients.push(client);

    const sent = client.send('web-01', 'ping', {}, { timeout: 3_000 });

    await expect(sent).rejects.toSatisfy(
      (error: unknown) => isBeckonError(error) && error.code === 'timed_out',
    );
    expect(answers).toEqual([]);
  });

  it('refuses another agent\u2019s commands topic to an agent', async () => {
    const asWeb02 = await rawLogin('web-02', web02.enrolled.password);

    const refusal = await asWeb02.subscribeAsync(agentTopic('web-01', 'commands'), { qos: 1 }).then(
      () => undefined,
      (error: unknown) => error as { packet?: { granted?: number[] } },
    );

    expect(refusal?.packet?.granted).toEqual([128]);
  });

  it('does not deliver a result that one agent publishes as another', async () => {
    const viewer = await addApp(auth, 'viewer', [{ agents: ['web-01'] }]);
    const asViewer = await rawLogin('viewer', viewer.secret);
    const seen = received(asViewer);
    await asViewer.subscribeAsync(agentTopic('web-01', 'results'), { qos: 1 });
    const asWeb02 = await rawLogin('web-02', web02.enrolled.password);
    const asWeb01 = await rawLogin('web-01', web01.enrolled.password);

    const genuine = new Promise<void>((resolve) => {
      asViewer.on('message', (_topic, payload) => {
        if (payload.toString() === 'genuine') {
          resolve();
        }
      });
    });
    await asWeb02.publishAsync(agentTopic('web-01', 'results'), 'forged', { qos: 1 });
    await asWeb01.publishAsync(agentTopic('web-01', 'results'), 'genuine', { qos: 1 });
    await genuine;

    expect(seen).toEqual([`${agentTopic('web-01', 'results')} genuine`]);
  });

  it('keeps an app from reading results of agents it is not granted', async () => {
    const viewer = await addApp(auth, 'narrow', [{ agents: ['web-02'] }]);
    const asViewer = await rawLogin('narrow', viewer.secret);
    const seen = received(asViewer);
    await asViewer.subscribeAsync('beckon/v1/agents/+/results', { qos: 1 });
    const asWeb01 = await rawLogin('web-01', web01.enrolled.password);
    const asWeb02 = await rawLogin('web-02', web02.enrolled.password);

    await asWeb01.publishAsync(agentTopic('web-01', 'results'), 'not yours', { qos: 1 });
    await asWeb02.publishAsync(agentTopic('web-02', 'results'), 'yours', { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));

    expect(seen).toEqual([`${agentTopic('web-02', 'results')} yours`]);
  });
});
