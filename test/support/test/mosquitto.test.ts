import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startMosquitto } from '../src/index.js';

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startMosquitto', () => {
  it('starts a broker on a free port, restarts it there, and removes it', async () => {
    const broker = await startMosquitto({ persistence: true });

    try {
      expect(await reachable(broker.port)).toBe(true);
      await broker.stop();
      expect(await reachable(broker.port)).toBe(false);
      await broker.start();
      expect(await reachable(broker.port)).toBe(true);
    } finally {
      await broker.dispose();
    }

    expect(await reachable(broker.port)).toBe(false);
  });
});
