import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from './helpers/setup.js';

let dir: string;
let broker: RunningMosquitto;
let world: World;

// The broker's gate, played here by a Mosquitto ACL file: anyone may read results and write
// web-01's commands, nothing else.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'beckon-client-acl-'));
  const acl = join(dir, 'acl');
  await writeFile(
    acl,
    [
      'topic read beckon/v1/agents/+/results',
      'topic write beckon/v1/agents/web-01/commands',
      '',
    ].join('\n'),
  );
  broker = await startMosquitto({ extraConfig: [`acl_file ${acl}`] });
  world = await startWorld();
});

afterAll(async () => {
  await world.dispose();
  await broker.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('a publish the broker refuses', () => {
  it('rejects with not_authorised on MQTT 5, where the PUBACK says so', async () => {
    const client = await world.connectApp({ url: broker.url, mqttVersion: '5' });

    await expect(client.send('db-01', 'ping', {})).rejects.toMatchObject({
      code: 'not_authorised',
      message: expect.stringContaining('beckon/v1/agents/db-01/commands') as unknown,
    });
  });

  it('times out on MQTT 3.1.1, where the broker drops it silently', async () => {
    const client = await world.connectApp({ url: broker.url, mqttVersion: '3.1.1' });

    await expect(client.send('db-01', 'ping', {}, { timeout: 500 })).rejects.toMatchObject({
      code: 'timed_out',
    });
  });
});
