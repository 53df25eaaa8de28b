import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

// Pauses inside a system under test, counted in that process (only it can see them) and handed
// to the benchmark over IPC, so a latency tail can be set against what stalled the server in
// the same slice instead of being guessed at: garbage-collection pauses, and the event loop's
// delay (any stretch of synchronous work, GC included, that kept it from answering).

export interface ServerPauses {
  readonly gcCount: number;
  readonly gcTotalMs: number;
  readonly gcLongestMs: number;
  /** The event loop's longest delay, sampled every 10 ms. */
  readonly loopDelayMaxMs: number;
  readonly loopDelayP99Ms: number;
}

export const PAUSES_REQUEST = 'server-pauses';

const LOOP_RESOLUTION_MS = 10;
const NS_PER_MS = 1e6;

/**
 * In a forked server: watch GC and the event loop, and answer each `{ type: 'server-pauses' }`
 * message with the figures since the previous one (asking before a slice resets them).
 */
export function reportServerPauses(): void {
  let gcCount = 0;
  let gcTotalMs = 0;
  let gcLongestMs = 0;
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount += 1;
      gcTotalMs += entry.duration;
      gcLongestMs = Math.max(gcLongestMs, entry.duration);
    }
  });

  observer.observe({ entryTypes: ['gc'] });
  loop.enable();
  process.on('message', (message: unknown) => {
    if (
      typeof message === 'object' &&
      message !== null &&
      (message as { type?: unknown }).type === PAUSES_REQUEST
    ) {
      const pauses: ServerPauses = {
        gcCount,
        gcTotalMs,
        gcLongestMs,
        // The histogram counts the sampling interval itself; the delay is what lies past it.
        loopDelayMaxMs: Math.max(0, loop.max / NS_PER_MS - LOOP_RESOLUTION_MS),
        loopDelayP99Ms: Math.max(0, loop.percentile(99) / NS_PER_MS - LOOP_RESOLUTION_MS),
      };
      gcCount = 0;
      gcTotalMs = 0;
      gcLongestMs = 0;
      loop.reset();
      process.send?.({ type: PAUSES_REQUEST, ...pauses });
    }
  });
}
