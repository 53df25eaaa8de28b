import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BYTES_PER_MIB = 1_024 * 1_024;
/** Lets a smoke run write elsewhere, so it never overwrites a developer's latest figures. */
const RESULTS_DIR_ENV = 'BECKON_BENCH_RESULTS_DIR';
const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url));

/**
 * The folder `BECKON_BENCH_RESULTS_DIR` names, or test/bench/results/ (gitignored; the doc
 * keeps the figures). A relative path is refused: it would depend on where `node` was started.
 */
export function resultsDir(env: Readonly<Record<string, string | undefined>>): string {
  const folder = env[RESULTS_DIR_ENV];

  if (folder === undefined || folder === '') {
    return DEFAULT_RESULTS_DIR;
  }

  if (!isAbsolute(folder)) {
    throw new Error(`${RESULTS_DIR_ENV} must be an absolute path; found ${JSON.stringify(folder)}`);
  }

  return folder;
}

/** Read once at start-up, so a bad value stops a run before it measures anything. */
export const RESULTS_DIR = resultsDir(process.env);

export interface MachineFacts {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryMiB: number;
  readonly node: string;
  readonly loadAverage: string;
  readonly date: string;
}

/** What the figures came from; the doc quotes it beside every table. */
export async function machineFacts(): Promise<MachineFacts> {
  const loadAverage = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / BYTES_PER_MIB),
    node: process.version,
    loadAverage,
    date: new Date().toISOString(),
  };
}

/** Writes one benchmark's figures with the machine and mode they came from. */
export async function writeResult(
  name: string,
  quick: boolean,
  figures: Record<string, unknown>,
): Promise<string> {
  const path = join(RESULTS_DIR, `${name}.json`);
  const document = { name, quick, machine: await machineFacts(), ...figures };

  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);

  return path;
}

/** Benchmarks print their tables on stdout; lint forbids console, so one writer does it. */
export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
