import { afterEach, describe, expect, it } from 'vitest';
import type { BeckonClient } from '../src/index.js';
import { startWorld, type World } from './helpers/setup.js';
import { startStandIn, type StandInAgent } from './helpers/stand-in-agent.js';

let world: World | undefined;
let agent: StandInAgent | undefined;

afterEach(async () => {
  await agent?.stop();
  await world?.dispose();
  agent = undefined;
  world = undefined;
});

function nextEvent(client: BeckonClient, event: 'connected' | 'disconnected'): Promise<void> {
  return new Promise((resolve) => client.once(event, () => resolve()));
}

describe.each(['5', '3.1.1'] as const)('reconnect over MQTT %s', (mqttVersion) => {
  it('resolves a send that was pending while the broker restarted', async () => {
    world = await startWorld();
    agent = await startStandIn({
      url: world.broker.url,
      agentId: 'restart-01',
      groups: ['all'],
      trustRoot: world.trust.trustRoot,
      mqttVersion: mqttVersion === '5' ? 5 : 4,
    });
    agent.handler = () => 'no-answer';
    const client = await world.connectApp({ mqttVersion });
    const arrived = new Promise((resolve) => agent!.once('command', resolve));
    const handle = client.start('restart-01', 'ping', {}, { timeout: 20_000 });
    await arrived;

    const lost = nextEvent(client, 'disconnected');
    const back = nextEvent(client, 'connected');
    await world.broker.restart();
    await lost;
    await back;
    await agent.reconnected();
    await agent.publishResult(agent.received.at(-1)!, { stdout: 'survived' });

    await expect(handle.result).resolves.toMatchObject({ output: { stdout: 'survived' } });
    expect(client.connected).toBe(true);
  });

  it('publishes a send made while the broker was down once it is back', async () => {
    // Persistence keeps the stand-in's subscription across the restart, so the command that
    // the client publishes on reconnect is queued for it even if it reconnects later.
    world = await startWorld({ persistence: true });
    agent = await startStandIn({
      url: world.broker.url,
      agentId: 'restart-02',
      groups: ['all'],
      trustRoot: world.trust.trustRoot,
      persistentSession: true,
    });
    const client = await world.connectApp({ mqttVersion });

    const lost = nextEvent(client, 'disconnected');
    await world.broker.stop();
    await lost;
    const result = client.send('restart-02', 'ping', {}, { timeout: 20_000 });
    await world.broker.start();

    await expect(result).resolves.toMatchObject({ outcome: 'succeeded' });
  });
});

describe('closing while disconnected', () => {
  it('rejects calls waiting for the broker with not_connected rather than hang', async () => {
    world = await startWorld();
    const client = await world.connectApp();
    const lost = nextEvent(client, 'disconnected');
    await world.broker.stop();
    await lost;

    const status = client.status('anyone');
    const send = client.send('anyone', 'ping', {});
    const waiting = expect(Promise.all([status, send])).rejects.toMatchObject({
      code: 'not_connected',
    });
    await client.close();

    await waiting;
    await expect(status).rejects.toMatchObject({ code: 'not_connected' });
    await expect(send).rejects.toMatchObject({ code: 'not_connected' });
  });
});
