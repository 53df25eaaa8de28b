import { readFile } from 'node:fs/promises';
import * as authCheck from './auth-check.js';
import * as connectStorm from './connect-storm.js';
import * as fanOut from './fan-out.js';
import * as footprint from './footprint.js';
import { parseBenchOptions, type BenchOptions } from './lib/bench-options.js';
import { machineFacts, print } from './lib/results.js';
import * as roundTrip from './round-trip.js';

// Runs the benchmarks one after another (never two at once: they would measure each other).

interface Benchmark {
  readonly NAME: string;
  run(options: BenchOptions): Promise<void>;
}

const BENCHMARKS: readonly Benchmark[] = [authCheck, connectStorm, roundTrip, footprint, fanOut];
/** The storm holds 2,000 client sockets in one process and the broker as many again. */
const MIN_OPEN_FILES = 8_192;

async function openFilesLimit(): Promise<number> {
  const limits = await readFile('/proc/self/limits', 'utf8');
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];

  return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}

async function main(): Promise<number> {
  const options = parseBenchOptions(process.argv.slice(2), process.env);
  const unknown = options.only.filter((name) => !BENCHMARKS.some((bench) => bench.NAME === name));

  if (unknown.length > 0) {
    const names = BENCHMARKS.map((bench) => bench.NAME).join(', ');
    print(`unknown benchmark ${unknown.join(', ')}; choose from ${names}`);

    return 2;
  }

  const limit = await openFilesLimit();

  if (limit < MIN_OPEN_FILES) {
    print(`open-files limit is ${limit}; raise it to ${MIN_OPEN_FILES} or more (ulimit -n)`);

    return 2;
  }

  const machine = await machineFacts();
  print(
    `machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryMiB} MiB, ` +
      `Node ${machine.node}, load ${machine.loadAverage}, ${machine.date}` +
      (options.quick ? ' (quick run)' : ''),
  );

  const failed: string[] = [];

  for (const bench of BENCHMARKS) {
    if (options.only.length > 0 && !options.only.includes(bench.NAME)) {
      continue;
    }

    const started = performance.now();

    try {
      await bench.run(options);
    } catch (error) {
      failed.push(bench.NAME);
      print(
        `${bench.NAME} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }

    print(`(${bench.NAME} took ${((performance.now() - started) / 1_000).toFixed(0)} s)`);
  }

  if (failed.length > 0) {
    print(`failed: ${failed.join(', ')}`);

    return 1;
  }

  return 0;
}

process.exitCode = await main();
