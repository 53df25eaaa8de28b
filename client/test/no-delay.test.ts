import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWorld, type World } from './helpers/setup.js';

// Nagle plus delayed ACKs cost 88 ms per round trip (PERFORMANCE.md). This file opens no other
// client, so every setNoDelay(true) call in this process is the client's own.
let world: World;

beforeAll(async () => {
  world = await startWorld();
});

afterAll(async () => {
  vi.restoreAllMocks();
  await world.dispose();
});

describe('socket options', () => {
  it('sets no-delay on the socket of every connection, reconnects included', async () => {
    const setNoDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    const client = await world.connectApp({ unsigned: true });
    const calls = (): number => setNoDelay.mock.calls.filter(([on]) => on === true).length;
    expect(calls()).toBe(1);

    const back = new Promise<void>((resolve) => client.once('connected', () => resolve()));
    await world.broker.restart();
    await back;

    expect(calls()).toBe(2);
  });
});
