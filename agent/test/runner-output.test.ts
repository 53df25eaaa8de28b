import { MAX_OUTPUT_LENGTH, MAX_PROGRESS_CHUNK_LENGTH } from '@beckon/shared';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionRunner, type ActionRunner, type RunRequest } from '../src/index.js';
import { action, captureLogger, makeTempDir, request } from './fixtures/actions.js';

type Chunk = Parameters<NonNullable<RunRequest['onProgress']>>[0];

let dir: { path: string; remove: () => Promise<void> };
let runner: ActionRunner;

beforeAll(async () => {
  dir = await makeTempDir('output');
  runner = createActionRunner({
    limits: { maxConcurrent: 4, maxQueued: 8, killGraceSeconds: 1 },
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await dir.remove();
});

/** An action running a line of JavaScript; `process.stdout.write` and friends in scope. */
function node(code: string, extra: Record<string, unknown> = {}) {
  return action({ argv: [process.execPath, '-e', code], ...extra });
}

describe('captured output', () => {
  it('is cut at the byte limit, flagged, and the program still runs to its end', async () => {
    // 4 MiB is far beyond the pipe buffer: an undrained pipe would block the program forever.
    const config = node(
      `process.stdout.write('a'.repeat(4 * 1024 * 1024)); process.stderr.write('done')`,
      { maxOutputBytes: 1_000 },
    );
    const outcome = await runner.run(request('flood', config).request);

    expect(outcome.outcome).toBe('succeeded');
    expect(outcome.output).toEqual({ stdout: 'a'.repeat(1_000), stderr: 'done', truncated: true });
  });

  it('is not flagged when it fits exactly', async () => {
    const config = node(`process.stdout.write('x'.repeat(10))`, { maxOutputBytes: 10 });
    const outcome = await runner.run(request('fits', config).request);

    expect(outcome.output).toEqual({ stdout: 'x'.repeat(10), stderr: '', truncated: false });
  });

  it('never ends in half a character when the cut falls inside one', async () => {
    const config = node(`process.stdout.write('é'.repeat(10))`, { maxOutputBytes: 5 });
    const outcome = await runner.run(request('utf8', config).request);

    expect(outcome.output).toMatchObject({ stdout: 'éé', truncated: true });
  });

  it('replaces invalid UTF-8 rather than failing', async () => {
    const config = node(`process.stdout.write(Buffer.from([0x61, 0xff, 0x62]))`);
    const outcome = await runner.run(request('binary', config).request);

    expect(outcome.output.stdout).toBe('a\uFFFDb');
  });

  it('never carries more than the shared limit of characters, nor half a surrogate pair', async () => {
    const config = node(`process.stdout.write('a' + '🚀'.repeat(40000))`, {
      maxOutputBytes: 16 * 1_024 * 1_024,
    });
    const outcome = await runner.run(request('emoji', config).request);
    const { stdout } = outcome.output;

    expect(stdout.length).toBe(MAX_OUTPUT_LENGTH - 1);
    expect(stdout.endsWith('🚀')).toBe(true);
    expect(outcome.output.truncated).toBe(true);
  });
});

describe('progress', () => {
  async function runWithProgress(code: string, extra: Record<string, unknown> = {}) {
    const chunks: Chunk[] = [];
    const { request: run } = request(
      'chatty',
      node(code, extra),
      {},
      {
        onProgress: (chunk) => chunks.push(chunk),
      },
    );
    const outcome = await runner.run(run);
    const joined = (stream: Chunk['stream']) =>
      chunks
        .filter((chunk) => chunk.stream === stream)
        .map((chunk) => chunk.data)
        .join('');

    return { outcome, chunks, joined };
  }

  it('relays both streams in order, coalescing many small writes into few chunks', async () => {
    const writes = 2_000;
    const { outcome, chunks, joined } = await runWithProgress(
      `for (let i = 0; i < ${writes}; i++) { require('fs').writeSync(1, i + ','); }
       require('fs').writeSync(2, 'warn');`,
    );

    expect(joined('stdout')).toBe(outcome.output.stdout);
    expect(joined('stderr')).toBe('warn');
    expect(chunks.length).toBeLessThan(writes / 10);
  });

  it('splits large output into chunks no longer than the shared limit', async () => {
    const { chunks, joined } = await runWithProgress(`process.stdout.write('z'.repeat(40000))`);

    expect(joined('stdout')).toBe('z'.repeat(40000));
    expect(chunks.every((chunk) => chunk.data.length <= MAX_PROGRESS_CHUNK_LENGTH)).toBe(true);
  });

  it('keeps a character whole when its bytes arrive in two writes', async () => {
    const { joined } = await runWithProgress(
      `const fs = require('fs'); fs.writeSync(1, Buffer.from([0xc3]));
       setTimeout(() => fs.writeSync(1, Buffer.from([0xa9])), 150);`,
    );

    expect(joined('stdout')).toBe('é');
  });

  it('stops at the output limit, so a chatty program cannot flood the broker', async () => {
    const { joined, outcome } = await runWithProgress(
      `process.stdout.write('p'.repeat(1024 * 1024))`,
      { maxOutputBytes: 100 },
    );

    expect(joined('stdout')).toBe('p'.repeat(100));
    expect(outcome.output.truncated).toBe(true);
  });

  it('does not end the run when the listener throws', async () => {
    const log = captureLogger();
    const logged = createActionRunner({
      limits: { maxConcurrent: 1, maxQueued: 0, killGraceSeconds: 1 },
      logger: log.logger,
    });
    const { request: run } = request(
      'throws',
      node(`process.stdout.write('x')`),
      {},
      {
        onProgress: () => {
          throw new Error('publish failed');
        },
      },
    );
    const outcome = await logged.run(run);

    expect(outcome.outcome).toBe('succeeded');
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ msg: 'progress listener failed', commandId: run.commandId }),
    );
  });
});
