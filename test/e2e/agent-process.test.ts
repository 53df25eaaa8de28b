import { fileURLToPath } from 'node:url';
import type { BeckonClient } from '@beckon/client';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp } from '../harness/app.js';
import { enrollAgent, writeAgentConfig } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';

// The real daemon (`beckon-agent run`, the built CLI with the real runner) as a child process
// on real Mosquitto: SIGTERM during a long action reports it, then the agent exits 0.

const AGENT_CLI = fileURLToPath(new URL('../../agent/dist/cli.js', import.meta.url));
// execa would SIGKILL 5 s after SIGTERM; the agent's own grace period decides here.
const RUN_OPTIONS = { reject: false, all: true, forceKillAfterDelay: false } as const;
const ONLINE_TIMEOUT_MS = 30_000;

let auth: RunningAuth;
let mosquitto: RunningMosquitto;
let client: BeckonClient;
let agent: ResultPromise<typeof RUN_OPTIONS> | undefined;

async function waitUntilOnline(agentId: string): Promise<void> {
  const deadline = Date.now() + ONLINE_TIMEOUT_MS;

  while ((await client.status(agentId))?.state !== 'online') {
    if (Date.now() > deadline) {
      throw new Error(`${agentId} did not come online`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  auth = await startAuth();
  mosquitto = await startMosquitto({ persistence: true });
  const enrolled = await enrollAgent(auth, 'batch-01');
  const { path } = await writeAgentConfig(enrolled, {
    brokerUrl: mosquitto.url,
    protocolVersion: 5,
    logLevel: 'info',
    actions: {
      'long-job': { description: 'Takes a minute', argv: ['/bin/sleep', '60'] },
    },
  });
  agent = execa('node', [AGENT_CLI, 'run', '--config', path], RUN_OPTIONS);
  const app = await addApp(auth, 'scheduler', [{ agents: ['batch-01'] }]);
  client = await connectApp(auth, mosquitto.url, app, { mqttVersion: '5' });
  await waitUntilOnline('batch-01');
});

afterAll(async () => {
  agent?.kill('SIGKILL');
  await agent;
  await client.close();
  await mosquitto.dispose();
  await auth.close();
});

describe('beckon-agent run as a real process', () => {
  it('reports a running action as interrupted on SIGTERM, then exits 0', async () => {
    const handle = client.start('batch-01', 'long-job', {}, { timeout: 60_000 });
    const settled = handle.result.then(
      (result) => result,
      (error: unknown) => error,
    );

    // The action has started once the agent says so in its log.
    await new Promise<void>((resolve) => {
      agent?.all.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes(handle.id) && chunk.toString().includes('started')) {
          resolve();
        }
      });
    });
    agent?.kill('SIGTERM');
    const exited = await agent;
    agent = undefined;

    expect(exited?.exitCode).toBe(0);
    expect(await settled).toMatchObject({ result: { outcome: 'interrupted' } });
  });
});
