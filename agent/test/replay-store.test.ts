import { appendFile, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Result } from '@beckon/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../src/logger.js';
import {
  JOURNAL_FILE,
  ReplayStore,
  StoreFullError,
  type CommandRecord,
} from '../src/state/replay-store.js';
import { removeDir, tempDir, type LogLine } from './support/harness.js';
import { Collector } from './support/wait.js';

const HOUR_MS = 3_600_000;

let dir: string;
let logs: Collector<LogLine>;
const logger = () =>
  createLogger('debug', { write: (line: string) => logs.push(JSON.parse(line) as LogLine) });

beforeEach(async () => {
  dir = await tempDir('replay');
  logs = new Collector<LogLine>();
});

afterEach(async () => {
  await removeDir(dir);
});

function record(id: string, expiresInMs = HOUR_MS): CommandRecord {
  return {
    id,
    hash: 'a'.repeat(64),
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    receivedAt: new Date().toISOString(),
    action: 'echo',
    issuer: 'app-1',
  };
}

function result(commandId: string): Result {
  return {
    kind: 'result',
    commandId,
    agentId: 'agent-1',
    outcome: 'succeeded',
    exitCode: 0,
    output: { stdout: 'ok', stderr: '', truncated: false },
    timings: { receivedAt: new Date().toISOString(), finishedAt: new Date().toISOString() },
  };
}

describe('the replay store', () => {
  it('remembers accepted, finished and published commands across a reopen', async () => {
    const store = await ReplayStore.open(dir, { logger: logger() });
    await store.accept(record('cmd-published'));
    await store.recordResult('cmd-published', result('cmd-published'));
    await store.markPublished('cmd-published');
    await store.accept(record('cmd-unpublished'));
    await store.recordResult('cmd-unpublished', result('cmd-unpublished'));
    await store.accept(record('cmd-running'));
    await store.close();

    const reopened = await ReplayStore.open(dir, { logger: logger() });

    expect(reopened.lookup('cmd-published')).toMatchObject({ published: true });
    expect(reopened.unfinished().map((entry) => [entry.id, entry.result?.commandId])).toEqual([
      ['cmd-unpublished', 'cmd-unpublished'],
      ['cmd-running', undefined],
    ]);
    await reopened.close();
  });

  it('writes a built-in with its result unsynced, and syncs a command that will run', async () => {
    const probe = await open(join(dir, 'probe'), 'w');
    const datasync = vi.spyOn(
      Object.getPrototypeOf(probe) as { datasync(): Promise<void> },
      'datasync',
    );
    await probe.close();
    const store = await ReplayStore.open(dir, { logger: logger() });

    try {
      await store.acceptAnswered(record('cmd-ping'), result('cmd-ping'));

      // Written (a crash of the agent alone keeps it) but not synced.
      expect(datasync).not.toHaveBeenCalled();
      expect(store.lookup('cmd-ping')).toMatchObject({
        published: false,
        result: { commandId: 'cmd-ping' },
      });
      const lines = (await readFile(join(dir, JOURNAL_FILE), 'utf8')).trim().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as { t: string }).t)).toEqual([
        'accepted',
        'result',
      ]);

      await store.accept(record('cmd-spawn'));
      expect(datasync).toHaveBeenCalledTimes(1);
      await store.recordResult('cmd-spawn', result('cmd-spawn'));
      expect(datasync).toHaveBeenCalledTimes(2);
    } finally {
      datasync.mockRestore();
      await store.close();
    }

    const reopened = await ReplayStore.open(dir, { logger: logger() });
    expect(reopened.unfinished().map((entry) => [entry.id, entry.result?.commandId])).toEqual([
      ['cmd-ping', 'cmd-ping'],
      ['cmd-spawn', 'cmd-spawn'],
    ]);
    await reopened.close();
  });

  it('refuses a built-in at once when it holds as many live ids as it may', async () => {
    const store = await ReplayStore.open(dir, { logger: logger(), maxEntries: 1 });
    await store.acceptAnswered(record('cmd-first'), result('cmd-first'));

    expect(() => store.acceptAnswered(record('cmd-second'), result('cmd-second'))).toThrow(
      StoreFullError,
    );
    expect(store.lookup('cmd-second')).toBeUndefined();
    await store.close();
  });

  it('keeps its journal private to the agent', async () => {
    const store = await ReplayStore.open(dir, { logger: logger() });
    await store.close();

    expect((await stat(join(dir, JOURNAL_FILE))).mode & 0o077).toBe(0);
  });

  it('survives a torn last line from a crash mid-write', async () => {
    const store = await ReplayStore.open(dir, { logger: logger() });
    await store.accept(record('cmd-whole'));
    await store.close();
    await appendFile(join(dir, JOURNAL_FILE), '{"t":"accepted","id":"cmd-to');

    const reopened = await ReplayStore.open(dir, { logger: logger() });

    expect(reopened.lookup('cmd-whole')).toBeDefined();
    expect(reopened.size).toBe(1);
    expect(logs.filter((line) => line.msg === 'journal ends in a torn line')).toHaveLength(1);
    await reopened.close();
  });

  it('refuses new ids rather than forget one that could still run', async () => {
    const store = await ReplayStore.open(dir, { logger: logger(), maxEntries: 2 });
    await store.accept(record('cmd-one'));
    await store.accept(record('cmd-two'));

    await expect(store.accept(record('cmd-three'))).rejects.toBeInstanceOf(StoreFullError);
    await store.close();
  });

  it('forgets a published id once its command has expired, making room', async () => {
    let now = Date.now();
    const store = await ReplayStore.open(dir, { logger: logger(), maxEntries: 1, now: () => now });
    await store.accept(record('cmd-old', 1_000));
    await store.recordResult('cmd-old', result('cmd-old'));
    await store.markPublished('cmd-old');
    now += 2 * 60_000;

    await store.accept(record('cmd-new'));

    expect(store.lookup('cmd-old')).toBeUndefined();
    expect(store.lookup('cmd-new')).toBeDefined();
    await store.close();
  });

  it('never forgets an expired id whose result is not published yet', async () => {
    let now = Date.now();
    const store = await ReplayStore.open(dir, { logger: logger(), maxEntries: 1, now: () => now });
    await store.accept(record('cmd-old', 1_000));
    now += 2 * 60_000;

    await expect(store.accept(record('cmd-new'))).rejects.toBeInstanceOf(StoreFullError);
    expect(store.lookup('cmd-old')).toBeDefined();
    await store.close();
  });

  it('compacts the journal down to the live entries when it reopens', async () => {
    let now = Date.now();
    const store = await ReplayStore.open(dir, { logger: logger(), now: () => now });

    for (let index = 0; index < 50; index += 1) {
      const id = `cmd-expiring-${index}`;
      await store.accept(record(id, 1_000));
      await store.recordResult(id, result(id));
      await store.markPublished(id);
    }

    await store.accept(record('cmd-live'));
    await store.close();
    now += 2 * 60_000;

    const reopened = await ReplayStore.open(dir, { logger: logger(), now: () => now });
    const lines = (await readFile(join(dir, JOURNAL_FILE), 'utf8')).trim().split('\n');

    expect(reopened.size).toBe(1);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ t: 'accepted', id: 'cmd-live' });
    await reopened.close();
  });
});
