import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { canConnect, startMosquitto } from '../src/index.js';

describe('startMosquitto', () => {
  it('starts a broker on a free port, restarts it there, and removes it', async () => {
    const broker = await startMosquitto({ persistence: true });

    try {
      expect(await canConnect(broker.port)).toBe(true);
      await broker.stop();
      expect(await canConnect(broker.port)).toBe(false);
      await broker.start();
      expect(await canConnect(broker.port)).toBe(true);
    } finally {
      await broker.dispose();
    }

    expect(await canConnect(broker.port)).toBe(false);
  });

  it("raises the broker's open-files limit when asked", async () => {
    const broker = await startMosquitto({ openFiles: 4_096 });

    try {
      const limits = await readFile(`/proc/${String(broker.pid())}/limits`, 'utf8');

      expect(limits).toMatch(/^Max open files\s+4096\s+4096\s/m);
    } finally {
      await broker.dispose();
    }
  });
});
