// Property runs per property: a short run inside `pnpm test`, a long one behind `pnpm fuzz`
// (BECKON_FUZZ_RUNS=100000). One knob so every fuzz suite scales together.
const DEFAULT_RUNS = 300;

function readRuns(): number {
  const raw = process.env['BECKON_FUZZ_RUNS'];

  if (raw === undefined || raw === '') {
    return DEFAULT_RUNS;
  }

  const runs = Number(raw);

  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new Error(`BECKON_FUZZ_RUNS must be a positive integer, got ${JSON.stringify(raw)}`);
  }

  return runs;
}

export const FUZZ_RUNS = readRuns();

/**
 * Properties that write a file per case (the agent config loader): a tenth of FUZZ_RUNS, so the
 * long run stays in minutes (10,000 files).
 */
export const FILE_FUZZ_RUNS = Math.max(30, Math.ceil(FUZZ_RUNS / 10));

/**
 * Properties that send each case through the broker to a running agent and wait for its
 * result (tens of milliseconds each on a busy 2-core machine): a twentieth of FUZZ_RUNS, 5,000
 * cases each in the long run. HTTP properties use keep-alive and run the full FUZZ_RUNS.
 */
export const NETWORK_FUZZ_RUNS = Math.max(20, Math.ceil(FUZZ_RUNS / 20));

/** Long runs need time in proportion; vitest's per-test timeout follows. */
export const FUZZ_TIMEOUT_MS = Math.max(30_000, FUZZ_RUNS * 5);
