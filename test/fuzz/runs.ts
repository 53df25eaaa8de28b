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

/** Long runs need time in proportion; vitest's per-test timeout follows. */
export const FUZZ_TIMEOUT_MS = Math.max(30_000, FUZZ_RUNS * 5);
