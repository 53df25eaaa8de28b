import { z } from 'zod';

/** Every benchmark's command line: `--quick` for a short smoke run, `--only` to pick some. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly only: readonly string[];
}

const QuickEnv = z.enum(['', '0', '1', 'true', 'false']).optional();

/**
 * Reads `--quick` / `--only <name>[,<name>]` and `BECKON_BENCH_QUICK`; anything else is an
 * error naming what was found, so a typo never runs the full (long) suite by accident.
 */
export function parseBenchOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): BenchOptions {
  const quickEnv = QuickEnv.safeParse(env['BECKON_BENCH_QUICK']);

  if (!quickEnv.success) {
    throw new Error(
      `BECKON_BENCH_QUICK must be 1, true, 0 or false; found ${JSON.stringify(env['BECKON_BENCH_QUICK'])}`,
    );
  }

  let quick = quickEnv.data === '1' || quickEnv.data === 'true';
  const only: string[] = [];

  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index];

    if (flag === '--quick') {
      quick = true;
    } else if (flag === '--only') {
      const value = argv[index + 1];

      if (value === undefined || value.startsWith('--')) {
        throw new Error('--only needs a benchmark name, e.g. --only auth-check');
      }

      only.push(...value.split(','));
      index += 1;
    } else if (flag !== '--') {
      throw new Error(`unknown flag ${JSON.stringify(flag)}; expected --quick or --only <name>`);
    }
  }

  return { quick, only };
}
