import { summarise, type LatencySummary } from './stats.js';

/**
 * Runs `total` calls of `call`, at most `inFlight` at a time, and summarises each call's
 * latency (from its own start) and the throughput of the whole run.
 */
export async function timedPool(
  total: number,
  inFlight: number,
  call: (index: number) => Promise<unknown>,
): Promise<LatencySummary> {
  const latencies = new Float64Array(total);
  let next = 0;
  let errors = 0;
  const started = performance.now();

  await Promise.all(
    Array.from({ length: Math.min(inFlight, total) }, async () => {
      while (next < total) {
        const index = next;
        next += 1;
        const start = performance.now();

        try {
          await call(index);
        } catch {
          errors += 1;
        }

        latencies[index] = performance.now() - start;
      }
    }),
  );

  return summarise(latencies, errors, (performance.now() - started) / 1_000);
}
