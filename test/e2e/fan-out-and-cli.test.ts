import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BeckonClient } from '@beckon/client';
import type { EmbeddedBroker } from '@beckon/local';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp, type TestApp } from '../harness/app.js';
import { startTestAgent, type RunningAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { startAuthedBroker } from '../harness/broker.js';

const FLEET_SIZE = 50;
const BECKON_CLI = fileURLToPath(new URL('../../client/dist/cli.js', import.meta.url));

let auth: RunningAuth;
let broker: EmbeddedBroker;
let fleet: RunningAgent[];
let app: TestApp;
let client: BeckonClient;
let folder: string;

beforeAll(async () => {
  auth = await startAuth();
  broker = await startAuthedBroker(auth);
  fleet = await Promise.all(
    Array.from({ length: FLEET_SIZE }, (_unused, index) =>
      startTestAgent(auth, `node-${String(index).padStart(2, '0')}`, {
        brokerUrl: broker.url,
        groups: ['fleet'],
        actions: {
          uptime: { description: 'How long the host has been up', argv: ['/usr/bin/uptime'] },
        },
      }),
    ),
  );
  app = await addApp(auth, 'fleet-manager', [{ groups: ['fleet'] }]);
  client = await connectApp(auth, broker.url, app);
  folder = await mkdtemp(join(tmpdir(), 'beckon-e2e-cli-'));
}, 120_000);

afterAll(async () => {
  await client.close();
  await Promise.all(fleet.map((agent) => agent.stop()));
  await broker.close();
  await auth.close();
  await rm(folder, { recursive: true, force: true });
});

describe('fan-out', () => {
  it(`gathers one outcome from each of ${FLEET_SIZE} agents of a group`, async () => {
    const report = await client.sendMany({ group: 'fleet' }, 'uptime', {}, { concurrency: 10 });

    expect(report.outcomes).toHaveLength(FLEET_SIZE);
    expect(report.succeeded).toBe(FLEET_SIZE);
    expect(new Set(report.outcomes.map((outcome) => outcome.agentId)).size).toBe(FLEET_SIZE);
  });
});

describe('the beckon CLI against the whole system', () => {
  async function beckon(args: string[]) {
    const keyFile = join(folder, 'app.jwk');
    await writeFile(keyFile, JSON.stringify(app.privateJwk), { mode: 0o600 });

    return execa('node', [BECKON_CLI, ...args], {
      reject: false,
      timeout: 60_000,
      env: {
        BECKON_URL: broker.url,
        BECKON_APP_ID: app.appId,
        BECKON_APP_SECRET: app.secret,
        BECKON_APP_KEY_FILE: keyFile,
        BECKON_AUTH_URL: auth.adminUrl,
        BECKON_MQTT_VERSION: '3.1.1',
      },
    });
  }

  it('sends a command and prints the result as JSON, exiting 0', async () => {
    const run = await beckon(['send', 'node-07', 'uptime', '--json', '--timeout', '20s']);

    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      result: { agentId: 'node-07', outcome: 'succeeded' },
    });
  });

  it('exits 3 when the agent refuses the command', async () => {
    const run = await beckon(['send', 'node-07', 'reboot', '--timeout', '20s', '--json']);

    expect(run.exitCode).toBe(3);
    expect(run.stdout).toContain('unknown_action');
  });

  it('lists the online agents and what they offer', async () => {
    const run = await beckon(['agents', '--json']);

    expect(run.exitCode).toBe(0);
    const listed = JSON.parse(run.stdout) as { agentId: string; state: string }[];
    expect(listed.filter((agent) => agent.state === 'online')).toHaveLength(FLEET_SIZE);
  });

  it('fans out to a group', async () => {
    const run = await beckon(['send', '--group', 'fleet', 'uptime', '--json']);

    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ succeeded: FLEET_SIZE });
  });
});
