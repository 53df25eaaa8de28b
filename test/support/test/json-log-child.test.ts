import { describe, expect, it } from 'vitest';
import { JsonLogChild } from '../src/index.js';

const ENV = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

function node(source: string): JsonLogChild {
  return new JsonLogChild(process.execPath, ['-e', source], ENV);
}

describe('JsonLogChild', () => {
  it('keeps every line, parses the JSON ones, and finds a logged line', async () => {
    const child = node(`
      console.log(JSON.stringify({ level: 30, msg: 'ready', port: 1 }));
      console.error('plain text on stderr');
      setTimeout(() => console.log(JSON.stringify({ level: 30, msg: 'later' })), 50);
    `);

    expect(await child.waitForLog((line) => line.msg === 'later')).toMatchObject({ level: 30 });
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    expect(child.logs.map((line) => line.msg)).toEqual(['ready', 'later']);
    expect(child.lines).toContain('plain text on stderr');
  });

  it('rejects a wait when the process exits first, with what it printed', async () => {
    const child = node(`console.error('config file not found'); process.exit(2);`);

    await expect(child.waitForLog((line) => line.msg === 'ready')).rejects.toThrow(
      /exited before the log line:\nconfig file not found/,
    );
    expect(await child.exited).toEqual({ code: 2, signal: null });
  });

  it('rejects a wait that runs out of time, and a dispose stops the process', async () => {
    const child = node(`setInterval(() => {}, 1000);`);

    await expect(child.waitForLog(() => true, 100)).rejects.toThrow(/no matching log line/);
    expect(child.running).toBe(true);
    await child.dispose('SIGTERM');
    expect(child.running).toBe(false);
    expect(await child.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });
});
