import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentPresence } from '../src/index.js';
import { startWorld, type World } from './helpers/setup.js';
import { startStandIn } from './helpers/stand-in-agent.js';

let world: World;

beforeAll(async () => {
  world = await startWorld();
});

afterAll(async () => {
  await world.dispose();
});

describe('presence', () => {
  it('reads an agent status from its retained message, with its catalogue', async () => {
    const agent = await startStandIn({
      url: world.broker.url,
      agentId: 'presence-01',
      trustRoot: world.trust.trustRoot,
    });
    const client = await world.connectApp();

    const presence = await client.status('presence-01');

    expect(presence).toMatchObject({ agentId: 'presence-01', state: 'online' });
    expect(presence?.catalogue.map((action) => action.name)).toEqual(['ping', 'restart-service']);
    expect(presence?.lastSeen).toBeInstanceOf(Date);
    expect(await client.status('never-seen')).toBeUndefined();
    await agent.stop();
  });

  it('lists every agent with a retained status', async () => {
    const agents = await Promise.all(
      ['list-a', 'list-b', 'list-c'].map((agentId) =>
        startStandIn({ url: world.broker.url, agentId, trustRoot: world.trust.trustRoot }),
      ),
    );
    const client = await world.connectApp();

    const listed = await client.listAgents();

    expect(listed.map((presence) => presence.agentId)).toEqual(
      expect.arrayContaining(['list-a', 'list-b', 'list-c']),
    );
    await Promise.all(agents.map((agent) => agent.stop()));
  });

  it('watches an agent go offline through its will and come back', async () => {
    const client = await world.connectApp();
    const controller = new AbortController();
    const watch = client.watchStatus({ signal: controller.signal });
    const seen: AgentPresence[] = [];
    const iterate = (async () => {
      for await (const presence of watch) {
        if (presence.agentId === 'watched-01') {
          seen.push(presence);
        }

        if (seen.length === 3) {
          controller.abort();
        }
      }
    })();

    const agent = await startStandIn({
      url: world.broker.url,
      agentId: 'watched-01',
      trustRoot: world.trust.trustRoot,
    });
    await expect.poll(() => seen.length).toBe(1);
    agent.crash();
    await expect.poll(() => seen.length).toBe(2);
    const back = await startStandIn({
      url: world.broker.url,
      agentId: 'watched-01',
      trustRoot: world.trust.trustRoot,
    });
    await iterate;

    expect(seen.map((presence) => presence.state)).toEqual(['online', 'offline', 'online']);
    expect((await client.status('watched-01'))?.state).toBe('online');
    await back.stop();
  });

  it('calls onChange for each change and stops on close()', async () => {
    const client = await world.connectApp();
    const states: string[] = [];
    const watch = client.watchStatus({
      onChange: (presence) => {
        if (presence.agentId === 'callback-01') {
          states.push(presence.state);
        }
      },
    });
    const agent = await startStandIn({
      url: world.broker.url,
      agentId: 'callback-01',
      trustRoot: world.trust.trustRoot,
    });
    await expect.poll(() => states).toEqual(['online']);

    watch.close();
    await agent.publishStatus('offline');
    await client.status('callback-01');

    expect(states).toEqual(['online']);
    await agent.stop();
  });

  it('ignores garbage and a status naming another agent on an agent status topic', async () => {
    const liar = await startStandIn({
      url: world.broker.url,
      agentId: 'liar-01',
      trustRoot: world.trust.trustRoot,
    });
    const client = await world.connectApp();
    expect((await client.status('liar-01'))?.state).toBe('online');

    await liar.publishRaw('{"kind":"status"', 'status');
    await liar.publishRaw(
      JSON.stringify({ ...liar.status('online'), agentId: 'victim-01' }),
      'status',
    );
    await liar.publishStatus('offline');

    await expect.poll(async () => (await client.status('liar-01'))?.state).toBe('offline');
    expect(await client.status('victim-01')).toBeUndefined();
    await liar.stop();
  });
});
