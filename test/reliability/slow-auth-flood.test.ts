import type { BeckonClient } from '@beckon/client';
import { startEmbeddedBroker, type EmbeddedBroker } from '@beckon/local';
import { PlugClient } from '@beckon/auth-service';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp } from '../harness/app.js';
import { startTestAgent, type RunningAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { FLOOD_LOGINS } from './support/env.js';
import { reportFigure } from './support/figures.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { waitFor } from './support/wait.js';

// The auth-service answers the broker slowly (a proxy in front of its broker listener holds
// every answer back) while a flood of MQTT logins with wrong secrets hits the broker, some for
// a real agent's username. The agents are cut off mid-flood and must get back in; commands
// must still go through; nothing may crash and no flood attempt may get in.

const ANSWER_DELAY_MS = 200;
const FLOOD_CONCURRENCY = 20;
const AGENTS = ['flood-target', 'bystander-1', 'bystander-2'];
const BACK_WITHIN_MS = 60_000;

let auth: RunningAuth;
let checksProxy: TcpProxy;
let broker: EmbeddedBroker;
let agentsProxy: TcpProxy;
let client: BeckonClient;
const agents: RunningAgent[] = [];

beforeAll(async () => {
  auth = await startAuth();
  checksProxy = await TcpProxy.start({ host: '127.0.0.1', port: auth.service.ports.broker });
  broker = await startEmbeddedBroker({
    checks: new PlugClient({ backend: 'http', ip: '127.0.0.1', port: checksProxy.port }),
    logger: pino({ level: 'silent' }),
    port: 0,
  });
  agentsProxy = await TcpProxy.start({ host: '127.0.0.1', port: broker.port });

  for (const id of AGENTS) {
    agents.push(await startTestAgent(auth, id, { brokerUrl: agentsProxy.url, groups: ['flood'] }));
  }

  const app = await addApp(auth, 'flood-operator', [{ groups: ['flood'] }]);
  client = await connectApp(auth, broker.url, app);
  await waitFor(() => agents.every(({ agent }) => agent.state === 'connected'), 'agents online');
});

afterAll(async () => {
  await client.close();
  await Promise.all(agents.map((agent) => agent.stop()));
  await agentsProxy.close();
  await broker.close();
  await checksProxy.close();
  await auth.close();
});

/** One MQTT login with a wrong secret; what the broker answered. */
async function failedLogin(username: string): Promise<'refused' | 'accepted' | 'error'> {
  try {
    const intruder = await mqtt.connectAsync(broker.url, {
      protocolVersion: 4,
      username,
      password: 'not-the-secret',
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    });
    await intruder.endAsync(true);

    return 'accepted';
  } catch (error) {
    return (error as { code?: number }).code === 5 || (error as { code?: number }).code === 4
      ? 'refused'
      : 'error';
  }
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${auth.adminUrl}/metrics`)).text();

  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('a slow auth-service under a flood of failed logins', () => {
  it('refuses every intruder, throttles the flood, and lets the real agents back in', async () => {
    checksProxy.answerDelayMs = ANSWER_DELAY_MS;
    const answers = { refused: 0, accepted: 0, error: 0 };
    let sent = 0;
    const flooder = async (): Promise<void> => {
      while (sent < FLOOD_LOGINS) {
        sent += 1;
        // Half aim at a real agent's name, half at names nobody has.
        const username = sent % 2 === 0 ? 'flood-target' : `ghost-${sent}`;
        answers[await failedLogin(username)] += 1;
      }
    };
    const floodStarted = Date.now();
    const flood = Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, flooder));

    // Mid-flood: every agent loses its connection and has to log in again.
    await waitFor(() => sent >= FLOOD_LOGINS / 4, 'the flood to be under way');
    const droppedAt = Date.now();
    agentsProxy.dropConnections();
    await waitFor(() => agents.every(({ agent }) => agent.state !== 'connected'), 'agents cut off');
    await waitFor(
      () => agents.every(({ agent }) => agent.state === 'connected'),
      'agents back',
      BACK_WITHIN_MS,
    );
    const backAfterMs = Date.now() - droppedAt;

    const commandStarted = Date.now();
    const during = await client.sendMany(AGENTS, 'ping', {}, { timeout: BACK_WITHIN_MS });
    const commandMs = Date.now() - commandStarted;
    await flood;
    const floodMs = Date.now() - floodStarted;

    const health = await fetch(`http://127.0.0.1:${auth.service.ports.broker}/healthz`);
    const throttled = await metric('beckon_auth_throttled_logins_total');
    reportFigure('slow-auth-flood', {
      answerDelayMs: ANSWER_DELAY_MS,
      floodLogins: FLOOD_LOGINS,
      floodMs,
      answers,
      throttled,
      agentsBackAfterMs: backAfterMs,
      fanOutPingMs: commandMs,
    });

    expect(answers.accepted).toBe(0);
    expect(answers.refused + answers.error).toBe(FLOOD_LOGINS);
    expect(throttled).toBeGreaterThan(0);
    expect(during.succeeded).toBe(AGENTS.length);
    expect(health.status).toBe(200);
  });
});
