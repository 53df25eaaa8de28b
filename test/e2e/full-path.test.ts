import type { BeckonClient } from '@beckon/client';
import type { EmbeddedBroker } from '@beckon/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp, type TestApp } from '../harness/app.js';
import { startTestAgent, type RunningAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { startAuthedBroker } from '../harness/broker.js';

// The whole production path on one machine: the real auth-service (SQLite), a broker that asks
// it every question over mosquitto-auth-plug's HTTP requests, enrolled agents, and the client.

let auth: RunningAuth;
let broker: EmbeddedBroker;
let agent: RunningAgent;
let deployer: TestApp;
let client: BeckonClient;

beforeAll(async () => {
  auth = await startAuth();
  broker = await startAuthedBroker(auth);
  agent = await startTestAgent(auth, 'web-01', {
    brokerUrl: broker.url,
    groups: ['web'],
    actions: {
      greet: {
        description: 'Prints a greeting',
        argv: ['/bin/echo', 'hello', { arg: 'name' }],
        args: { name: { type: 'string', pattern: '[a-z]+' } },
      },
    },
  });
  deployer = await addApp(auth, 'deployer', [{ groups: ['web'] }]);
  client = await connectApp(auth, broker.url, deployer);
});

afterAll(async () => {
  await client.close();
  await agent.stop();
  await broker.close();
  await auth.close();
});

describe('one command through the whole system', () => {
  it('runs an allow-listed action on the agent and returns its result', async () => {
    const result = await client.send('web-01', 'greet', { name: 'world' }, { timeout: 20_000 });

    expect(result).toMatchObject({
      kind: 'result',
      agentId: 'web-01',
      outcome: 'succeeded',
      exitCode: 0,
      output: { stdout: 'hello world\n', truncated: false },
    });
  });
});
