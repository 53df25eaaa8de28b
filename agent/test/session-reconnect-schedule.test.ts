import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT_TIMINGS, ReconnectSchedule } from '../src/mqtt/reconnect-schedule.js';

const MINUTE_MS = 60_000;

function delays(random: () => number, failures: ('lost' | 'auth')[]): number[] {
  const schedule = new ReconnectSchedule(DEFAULT_RECONNECT_TIMINGS, random);

  return failures.map((failure) => schedule.next(failure));
}

describe('the reconnect schedule', () => {
  it('spreads the first retry after a loss over seconds, so a fleet does not retry in step', () => {
    const [early] = delays(() => 0.01, ['lost']);
    const [late] = delays(() => 0.99, ['lost']);

    expect(early).toBeLessThan(500);
    expect(late).toBeGreaterThan(4_000);
    expect(late).toBeLessThanOrEqual(DEFAULT_RECONNECT_TIMINGS.firstSpreadMs);
  });

  it('backs off exponentially and never waits more than about a minute', () => {
    const ceilings = delays(() => 1, Array<'lost'>(12).fill('lost'));

    expect(ceilings.slice(1, 5)).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(Math.max(...ceilings)).toBe(MINUTE_MS);
  });

  it('never retries sooner than the floor, whatever the jitter draws', () => {
    expect(Math.min(...delays(() => 0, Array<'lost'>(5).fill('lost')))).toBe(
      DEFAULT_RECONNECT_TIMINGS.minMs,
    );
  });

  it('waits at least fifteen seconds after an auth refusal, growing to ten minutes', () => {
    const waits = delays(() => 0, Array<'auth'>(10).fill('auth'));

    expect(waits[0]).toBe(15_000);
    expect(waits[1]).toBe(30_000);
    expect(Math.max(...waits)).toBe(5 * MINUTE_MS);
    expect(Math.max(...delays(() => 1, Array<'auth'>(10).fill('auth')))).toBe(10 * MINUTE_MS);
  });

  it('starts again from the spread-out first retry after a successful connection', () => {
    const schedule = new ReconnectSchedule(DEFAULT_RECONNECT_TIMINGS, () => 1);
    schedule.next('lost');
    schedule.next('lost');
    schedule.reset();

    expect(schedule.next('lost')).toBe(DEFAULT_RECONNECT_TIMINGS.firstSpreadMs);
  });
});
