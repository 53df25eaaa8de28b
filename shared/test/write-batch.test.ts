import { once } from 'node:events';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { WriteBatch, type Corkable } from '../src/write-batch.js';

const BATCH = 'result-1;puback-1;result-2;';

function countingStream(): Corkable & { corks: number; uncorks: number } {
  const stream = {
    corks: 0,
    uncorks: 0,
    cork: () => {
      stream.corks += 1;
    },
    uncork: () => {
      stream.uncorks += 1;
    },
  };

  return stream;
}

describe('holding a socket for one batch of inbound packets', () => {
  it('corks once per loop iteration and uncorks in the check phase', async () => {
    const batch = new WriteBatch();
    const stream = countingStream();

    batch.hold(stream);
    batch.hold(stream);
    batch.hold(stream);
    expect(stream).toMatchObject({ corks: 1, uncorks: 0 });

    await nextIteration();
    expect(stream).toMatchObject({ corks: 1, uncorks: 1 });

    batch.hold(stream);
    await nextIteration();
    expect(stream).toMatchObject({ corks: 2, uncorks: 2 });
  });

  it('releases a replaced socket as well as the new one (a reconnect mid-batch)', async () => {
    const batch = new WriteBatch();
    const old = countingStream();
    const fresh = countingStream();

    batch.hold(old);
    batch.hold(fresh);
    await nextIteration();

    expect(old).toMatchObject({ corks: 1, uncorks: 1 });
    expect(fresh).toMatchObject({ corks: 1, uncorks: 1 });
  });

  it('sends what was written during the batch in one piece, in order', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const socket = new Socket().setNoDelay(true);
    socket.connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    const [peer] = await accepted;
    const chunks: string[] = [];
    peer.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));

    try {
      const batch = new WriteBatch();
      batch.hold(socket);
      socket.write('result-1;');
      await Promise.resolve();
      socket.write('puback-1;');
      socket.write('result-2;');
      // Nothing has reached the kernel yet: all three wait for the one write at the end.
      expect(socket.writableLength).toBe(BATCH.length);

      await nextIteration();
      expect(socket.writableLength).toBe(0);

      while (chunks.join('').length < BATCH.length) {
        await once(peer, 'data');
      }

      expect(chunks.join('')).toBe(BATCH);
    } finally {
      socket.destroy();
      peer.destroy();
      server.close();
    }
  });
});
