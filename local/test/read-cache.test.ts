import { describe, expect, it } from 'vitest';
import { FORWARD_WINDOW_MS, ReadCache } from '../src/read-cache.js';

describe('ReadCache', () => {
  it('keeps a decision through the forwarding window even with no cache time', () => {
    const cache = new ReadCache(0);
    cache.set('agent', 't', 'yes', 1_000);

    expect(cache.allows('agent', 't', 1_000 + FORWARD_WINDOW_MS - 1)).toBe(true);
    expect(cache.allows('agent', 't', 1_000 + FORWARD_WINDOW_MS)).toBe(false);
    // With no cache time, every publish asks again.
    expect(cache.has('agent', 't', 1_000)).toBe(false);
  });

  it('asks again for a decision that would expire before the delivery it is fetched for', () => {
    const cache = new ReadCache(5_000);
    cache.set('agent', 't', 'yes', 0);

    expect(cache.has('agent', 't', 5_000 - FORWARD_WINDOW_MS - 1)).toBe(true);
    expect(cache.has('agent', 't', 5_000 - FORWARD_WINDOW_MS)).toBe(false);
  });

  it('never remembers an error and never allows a no', () => {
    const cache = new ReadCache(5_000);
    cache.set('agent', 'denied', 'no', 0);
    cache.set('agent', 'broken', 'error', 0);

    expect(cache.allows('agent', 'denied', 1)).toBe(false);
    expect(cache.has('agent', 'broken', 1)).toBe(false);
  });
});
