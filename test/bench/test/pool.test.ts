import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { timedPool } from '../lib/pool.js';

/** A call that records how many calls overlap it and which indexes were asked for. */
function recordingCall(fail: (index: number) => boolean = () => false) {
  const seen = { indexes: [] as number[], running: 0, mostAtOnce: 0 };

  const call = async (index: number): Promise<void> => {
    seen.indexes.push(index);
    seen.running += 1;
    seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);

    try {
      // Vary the length a little, so calls finish out of order and the pool must refill.
      await sleep(index % 3);

      if (fail(index)) {
        throw new Error(`call ${index} fails`);
      }
    } finally {
      seen.running -= 1;
    }
  };

  return { seen, call };
}

const range = (count: number): number[] => Array.from({ length: count }, (_, index) => index);

describe('timedPool', () => {
  it('never has more than inFlight calls running, and keeps that many busy', async () => {
    const { seen, call } = recordingCall();

    await timedPool(60, 4, call);

    expect(seen.mostAtOnce).toBe(4);
    expect(seen.running).toBe(0);
  });

  it('makes exactly total calls, one for each index from 0 to total - 1', async () => {
    const { seen, call } = recordingCall();

    const summary = await timedPool(37, 5, call);

    expect([...seen.indexes].sort((a, b) => a - b)).toEqual(range(37));
    expect(summary.count).toBe(37);
    expect(summary.errors).toBe(0);
  });

  it('counts rejected calls as errors and still makes every call', async () => {
    const { seen, call } = recordingCall((index) => index % 4 === 0);

    const summary = await timedPool(20, 3, call);

    expect(summary.errors).toBe(5);
    expect(summary.count).toBe(20);
    expect(seen.indexes).toHaveLength(20);
  });

  it('runs every call at once when inFlight is more than total', async () => {
    const { seen, call } = recordingCall();

    const summary = await timedPool(3, 50, call);

    expect(seen.mostAtOnce).toBe(3);
    expect([...seen.indexes].sort((a, b) => a - b)).toEqual([0, 1, 2]);
    expect(summary.count).toBe(3);
  });

  it('measures how long the calls took', async () => {
    const summary = await timedPool(4, 1, () => sleep(20));

    // Lower bounds only: timers never fire early, and a loaded machine only adds to them.
    expect(summary.p50).toBeGreaterThanOrEqual(19);
    expect(summary.seconds).toBeGreaterThanOrEqual(0.076);
  });
});
