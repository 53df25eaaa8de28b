import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const BYTES_PER_MIB = 1_024 * 1_024;

/** Where the results land: test/bench/results/<name>.json (gitignored; the doc keeps figures). */
export const RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url));

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
  const path = `${RESULTS_DIR}${name}.json`;
  const document = { name, quick, machine: await machineFacts(), ...figures };

  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);

  return path;
}

/** Benchmarks print their tables on stdout; lint forbids console, so one writer does it. */
export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
