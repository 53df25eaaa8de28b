import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createActionRunner,
  ShutdownReason,
  type ActionRunner,
  type RunOutcome,
} from '../src/index.js';
import { action, request } from './fixtures/actions.js';

// Every run here is a `sleep` that only ends when the test cancels it, so the order of events
// is decided by the test, never by timing.

const sleeper = action({ argv: ['/bin/sleep', '1000'] });
const serial = action({ argv: ['/bin/sleep', '1000'], maxConcurrent: 1 });

interface Handle {
  readonly name: string;
  readonly outcome: Promise<RunOutcome>;
  readonly started: Promise<void>;
  readonly stop: (reason?: unknown) => void;
}

function makeRunner(maxConcurrent: number, maxQueued: number): ActionRunner {
  return createActionRunner({
    limits: { maxConcurrent, maxQueued, killGraceSeconds: 1 },
    logger: pino({ level: 'silent' }),
  });
}

function submit(
  runner: ActionRunner,
  name: string,
  startOrder: string[],
  config = sleeper,
  actionName = 'sleep',
): Handle {
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const { request: run, controller } = request(
    actionName,
    config,
    {},
    {
      onStart: () => {
        startOrder.push(name);
        markStarted();
      },
    },
  );

  return {
    name,
    outcome: runner.run(run),
    started,
    stop: (reason?: unknown) => controller.abort(reason),
  };
}

async function stopAll(handles: readonly Handle[]): Promise<void> {
  handles.forEach((handle) => handle.stop());
  await Promise.all(handles.map((handle) => handle.outcome));
}

describe('global concurrency and the queue', () => {
  it('runs at most maxConcurrent at once and starts the rest first in, first out', async () => {
    const order: string[] = [];
    const runner = makeRunner(2, 3);
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => submit(runner, name, order));

    try {
      expect(order).toEqual(['a', 'b']);
      expect([runner.running, runner.queued]).toEqual([2, 3]);

      a!.stop();
      await c!.started;
      expect(order).toEqual(['a', 'b', 'c']);

      b!.stop();
      await d!.started;
      c!.stop();
      await e!.started;
      expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect([runner.running, runner.queued]).toEqual([2, 0]);
    } finally {
      await stopAll([a!, b!, c!, d!, e!]);
    }

    expect([runner.running, runner.queued]).toEqual([0, 0]);
  });

  it('refuses a run with `unavailable` once the queue is full', async () => {
    const order: string[] = [];
    const runner = makeRunner(1, 1);
    const first = submit(runner, 'first', order);
    const waiting = submit(runner, 'waiting', order);

    try {
      expect(runner.canAccept()).toBe(false);

      const refused = await submit(runner, 'refused', order).outcome;

      expect(refused).toMatchObject({
        outcome: 'failed',
        error: { code: 'unavailable', message: 'the action queue is full' },
      });
      expect(refused.startedAt).toBeUndefined();
      expect(order).toEqual(['first']);
    } finally {
      await stopAll([first, waiting]);
    }

    expect(runner.canAccept()).toBe(true);
  });

  it('ends a queued run as cancelled without ever starting it', async () => {
    const order: string[] = [];
    const runner = makeRunner(1, 4);
    const running = submit(runner, 'running', order);
    const queued = submit(runner, 'queued', order);

    try {
      queued.stop();
      const outcome = await queued.outcome;

      expect(outcome).toMatchObject({ outcome: 'cancelled', error: { code: 'cancelled' } });
      expect(outcome.startedAt).toBeUndefined();
      expect(runner.queued).toBe(0);
    } finally {
      await stopAll([running, queued]);
    }

    expect(order).toEqual(['running']);
  });

  it('ends a queued run as interrupted when the agent shuts down', async () => {
    const runner = makeRunner(1, 4);
    const running = submit(runner, 'running', []);
    const queued = submit(runner, 'queued', []);

    try {
      queued.stop(new ShutdownReason());

      expect(await queued.outcome).toMatchObject({
        outcome: 'interrupted',
        error: { code: 'interrupted' },
      });
    } finally {
      await stopAll([running, queued]);
    }
  });
});

describe('per-action concurrency', () => {
  it('holds back a second run of a serial action without blocking other actions', async () => {
    const order: string[] = [];
    const runner = makeRunner(4, 4);
    const first = submit(runner, 'serial-1', order, serial, 'serial');
    const second = submit(runner, 'serial-2', order, serial, 'serial');
    const other = submit(runner, 'other', order);

    try {
      expect(order).toEqual(['serial-1', 'other']);
      expect([runner.running, runner.queued]).toEqual([2, 1]);

      first.stop();
      await second.started;

      expect(order).toEqual(['serial-1', 'other', 'serial-2']);
    } finally {
      await stopAll([first, second, other]);
    }
  });

  it('needs a queue place for a run held back by its action even with global slots free', async () => {
    const runner = makeRunner(4, 0);
    const first = submit(runner, 'serial-1', [], serial, 'serial');

    try {
      const second = await submit(runner, 'serial-2', [], serial, 'serial').outcome;

      expect(second.error?.code).toBe('unavailable');
    } finally {
      await stopAll([first]);
    }
  });
});
