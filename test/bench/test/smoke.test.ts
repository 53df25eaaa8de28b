import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The benchmarks are not part of `pnpm test`, so nothing else would notice when a change
// elsewhere (an agent config key, a client option, a server's IPC message) breaks one at run
// time; typecheck sees only their types. This compiles them as `pnpm bench` does and runs the
// two whose quick runs are short, round trip and fan-out, against real Mosquitto, real agents
// and a real auth-service, then reads what they wrote. No figure is checked: on a shared
// machine under the rest of the suite, only completion and correctness mean anything.

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Compiling test/bench alone. */
const COMPILE_TIMEOUT_MS = 120_000;
/** Both quick runs, including their auth-service, agents and broker, on a loaded machine. */
const RUN_TIMEOUT_MS = 240_000;

let resultsDir: string;
let output: { stdout: string; stderr: string };

beforeAll(async () => {
  resultsDir = await mkdtemp(join(tmpdir(), 'beckon-bench-smoke-'));
  await run('pnpm', ['exec', 'tsc', '-p', 'test/tsconfig.bench.json'], {
    cwd: ROOT,
    timeout: COMPILE_TIMEOUT_MS,
  });
  // run-all refuses to start under 8,192 open files; bench.sh raises the soft limit the same way.
  output = await run(
    'sh',
    [
      '-c',
      'ulimit -Sn "$(ulimit -Hn)"; exec node test/bench/dist/run-all.js --quick --only round-trip,fan-out',
    ],
    {
      cwd: ROOT,
      timeout: RUN_TIMEOUT_MS,
      env: { ...process.env, BECKON_BENCH_RESULTS_DIR: resultsDir, BECKON_BENCH_CPU_PROF: '' },
      maxBuffer: 16 * 1_024 * 1_024,
    },
  );
}, COMPILE_TIMEOUT_MS + RUN_TIMEOUT_MS);

afterAll(async () => {
  await rm(resultsDir, { recursive: true, force: true });
});

async function result(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(resultsDir, `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

interface RoundTripCase {
  readonly name: string;
  readonly inFlight: number;
  readonly summary: { readonly count: number; readonly errors: number };
}

interface FanOutMedian {
  readonly case: string;
  readonly succeeded: number;
}

describe('the benchmarks, in quick mode', () => {
  it('print both tables and fail none', () => {
    expect(output.stdout).toContain('## round-trip');
    expect(output.stdout).toContain('## fan-out');
    expect(output.stdout).not.toMatch(/failed/);
  });

  it('time every round trip of every case, and none fails', async () => {
    const roundTrip = await result('round-trip');
    const cases = roundTrip['cases'] as RoundTripCase[];

    expect(roundTrip['quick']).toBe(true);
    expect(cases.map((entry) => `${entry.name}/${entry.inFlight}`)).toEqual([
      'raw echo/1',
      'signed echo/1',
      'beckon ping/1',
      'beckon ping, ES256/1',
      'raw echo/100',
      'signed echo/100',
      'beckon ping/100',
      'beckon ping, ES256/100',
      'beckon spawn-true/1',
      'beckon spawn-true/100',
    ]);

    for (const entry of cases) {
      expect(entry.summary.errors, `${entry.name} with ${entry.inFlight} in flight`).toBe(0);
      expect(entry.summary.count).toBeGreaterThan(0);
    }
  });

  it('gather an outcome from every agent in every fan-out', async () => {
    const fanOut = await result('fan-out');
    const agents = fanOut['agents'] as number;
    const medians = fanOut['medians'] as FanOutMedian[];

    expect(agents).toBeGreaterThan(0);
    expect(medians.map((entry) => entry.case)).toEqual([
      'raw fan-out',
      'signed raw fan-out',
      'sendMany, all at once',
      'sendMany, default concurrency (10)',
    ]);

    for (const entry of medians) {
      expect(entry.succeeded, entry.case).toBe(agents);
    }
  });
});
