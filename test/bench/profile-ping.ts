import { fork, spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout } from 'node:timers/promises';
import { startMosquitto } from '@beckon/test-support';
import { parseBenchOptions } from './lib/bench-options.js';
import { connectFleetClient, forkAgentHost, startFleet } from './lib/fleet.js';
import {
  microsecondsPerMessage,
  newestMapEntries,
  SampleCounter,
  sum,
} from './lib/perf-breakdown.js';
import { timedPool } from './lib/pool.js';
import { ask, benchScript, exited, forkServer, type ForkedServer } from './lib/processes.js';
import { readCpuMs } from './lib/proc-stats.js';
import { echoSigningKeys, RawRequester } from './lib/raw-requester.js';
import { print, RESULTS_DIR, writeResult } from './lib/results.js';
import { formatMs, table } from './lib/stats.js';
import { stopProcess, Teardown } from './lib/teardown.js';

// Not a benchmark but the tool behind section 3's breakdown (`pnpm bench:profile`): where each
// end's CPU goes per message, for a Beckon ping (client and agent) and for the signed echo
// (requester and echo: the floor of any signed command), set up as in round-trip.ts. Each pair
// runs under a requesting process of its own (this script, forked), and `perf record` samples
// both ends of the pair at once while it sends in sequence. Needs `perf` (Debian's linux-perf)
// and the right to attach to a process (root, or kernel.perf_event_paranoid <= 1).
//
// Each process is recorded once and its symbol map read right after: V8 reuses code space, so
// a map read later would name code placed after the recording (newestMapEntries).

export const NAME = 'profile-ping';

/** The floor (no Beckon code) and Beckon's own. */
type Pair = 'signed echo' | 'beckon ping';

interface Counts {
  /** Untimed messages first: Beckon's code reaches V8's optimised tiers after a few thousand. */
  readonly warmup: number;
  readonly measured: number;
}

const FULL_COUNTS: Counts = { warmup: 5_000, measured: 6_000 };
const QUICK_COUNTS: Counts = { warmup: 500, measured: 500 };
/** An odd rate, so sampling does not beat in step with a timer. */
const SAMPLE_HZ = 4_999;
/** perf needs a moment after it starts before it is attached and recording. */
const ATTACH_MS = 1_000;
/**
 * --perf-basic-prof writes /tmp/perf-<pid>.map, which names JIT code for perf. It also turns
 * on V8's event log, which would land in the working folder as isolate-*-v8.log; `+` makes
 * that a temporary file nobody sees.
 */
const PERF_NODE_FLAGS = [
  '--perf-basic-prof',
  '--interpreted-frames-native-stack',
  '--logfile=+',
  '--no-logfile-per-isolate',
];
const SIGNED_PREFIX = 'bench/profile-signed';
/** argv[2] of this script when it runs as one pair's requesting process. */
const CHILD_FLAG = '--requesting-process';
/**
 * Set to 1 to keep the recordings (in the results folder) and the processes' symbol maps (in
 * /tmp), for `perf report -i <file>` afterwards; otherwise both are removed.
 */
const KEEP_ENV = 'BECKON_BENCH_PERF_KEEP';

/** One side's main-thread CPU per message, by bucket, and its process's total from /proc. */
interface Side {
  readonly microseconds: Readonly<Record<string, number>>;
  readonly procMicroseconds: number;
}

interface Profiled {
  readonly name: Pair;
  readonly answering: Side;
  readonly requesting: Side;
  readonly p50Ms: number;
  readonly pids: { readonly answering: number; readonly requesting: number };
}

interface PairRequest {
  readonly pair: Pair;
  readonly counts: Counts;
  readonly keep: boolean;
}

function requirePerf(): void {
  const probe = spawnSync('perf', ['--version'], { encoding: 'utf8' });

  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error('perf is not installed (Debian: apt-get install linux-perf)');
  }
}

/** CPU time of each process per message while `work` runs, read from /proc. */
async function procMicroseconds(
  pids: readonly number[],
  messages: number,
  work: () => Promise<void>,
): Promise<number[]> {
  const before = await Promise.all(pids.map(readCpuMs));
  await work();
  const after = await Promise.all(pids.map(readCpuMs));

  return pids.map((_, index) => (((after[index] ?? 0) - (before[index] ?? 0)) / messages) * 1_000);
}

async function perfRecord(pids: readonly number[], file: string): Promise<() => Promise<void>> {
  const perf = spawn(
    'perf',
    ['record', '--quiet', '-F', String(SAMPLE_HZ), '-g', '-p', pids.join(','), '-o', file],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const done = exited(perf);
  await setTimeout(ATTACH_MS);

  return async () => {
    perf.kill('SIGINT');
    await done;

    if (perf.exitCode !== 0 && perf.signalCode === null) {
      throw new Error(`perf record exited with ${perf.exitCode}`);
    }
  };
}

/**
 * Rewrites a process's symbol map with only the newest entry at each address (see
 * newestMapEntries), by rename, so the still-running process appends to the old file.
 */
async function cleanPerfMap(pid: number): Promise<void> {
  const path = `/tmp/perf-${pid}.map`;
  const temp = `${path}.newest`;

  await writeFile(temp, newestMapEntries(await readFile(path, 'utf8')));
  await rename(temp, path);
}

/** Main-thread buckets of each pid (a Node process's main thread id is its pid). */
async function breakdown(
  file: string,
  pids: readonly number[],
  messages: number,
): Promise<Record<string, number>[]> {
  await Promise.all(pids.map(cleanPerfMap));
  const script = spawn('perf', ['script', '-i', file, '-F', 'tid,ip,sym'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const counter = new SampleCounter();

  for await (const line of createInterface({ input: script.stdout })) {
    counter.add(line);
  }

  await exited(script);

  return pids.map((pid) =>
    Object.fromEntries(
      [...counter.thread(pid)]
        .sort((a, b) => b[1] - a[1])
        .map(([bucket, count]) => [bucket, microsecondsPerMessage(count, SAMPLE_HZ, messages)]),
    ),
  );
}

async function profile(
  pair: Pair,
  answering: ForkedServer,
  file: string,
  call: () => Promise<unknown>,
  counts: Counts,
): Promise<Profiled> {
  const pids = [answering.pid, process.pid];
  let p50Ms = Number.NaN;

  await timedPool(counts.warmup, 1, call);
  const stop = await perfRecord(pids, file);
  let cpu: number[];

  try {
    cpu = await procMicroseconds(pids, counts.measured, async () => {
      p50Ms = (await timedPool(counts.measured, 1, call)).p50;
    });
  } finally {
    await stop();
  }

  const [answeringBuckets, requestingBuckets] = await breakdown(file, pids, counts.measured);

  return {
    name: pair,
    answering: { microseconds: answeringBuckets ?? {}, procMicroseconds: cpu[0] ?? 0 },
    requesting: { microseconds: requestingBuckets ?? {}, procMicroseconds: cpu[1] ?? 0 },
    p50Ms,
    pids: { answering: answering.pid, requesting: process.pid },
  };
}

/** In the requesting process: one pair, set up as round-trip.ts sets it up, profiled. */
async function profilePair(request: PairRequest): Promise<Profiled> {
  const { pair, counts, keep } = request;
  const forgetPerfMap = (pid: number): Promise<void> =>
    keep ? Promise.resolve() : rm(`/tmp/perf-${pid}.map`, { force: true });
  const mosquitto = await startMosquitto();
  const teardown = new Teardown();
  teardown.add(() => mosquitto.dispose());
  teardown.add(() => forgetPerfMap(process.pid));

  try {
    const folder = keep ? RESULTS_DIR : join(mosquitto.dir, 'profile');
    await mkdir(folder, { recursive: true });
    const file = join(folder, `${NAME}-${pair.replace(' ', '-')}.perf`);

    if (pair === 'signed echo') {
      const signing = echoSigningKeys();
      const echo = await forkServer('servers/raw-echo.js', {
        args: [mosquitto.url, '1', SIGNED_PREFIX, signing.publicKeyArg],
        execArgv: PERF_NODE_FLAGS,
      });
      teardown.add(() => forgetPerfMap(echo.pid));
      teardown.add(() => stopProcess(echo.child));
      const requester = await RawRequester.connect(
        mosquitto.url,
        SIGNED_PREFIX,
        signing.privateKey,
      );
      teardown.add(() => requester.close());

      return await profile(pair, echo, file, () => requester.request(0), counts);
    }

    const fleet = await startFleet({ agents: 1, brokerUrl: mosquitto.url, protocolVersion: 5 });
    teardown.add(() => fleet.close());
    const agent = fleet.agents[0];

    if (agent === undefined) {
      throw new Error('the fleet has no agent');
    }

    const host = await forkAgentHost(fleet, [agent], NAME, { execArgv: PERF_NODE_FLAGS });
    teardown.add(() => forgetPerfMap(host.pid));
    teardown.add(() => stopProcess(host.child));
    const client = await connectFleetClient(fleet, mosquitto.url);
    teardown.add(() => client.close());

    return await profile(pair, host, file, () => client.send(agent.agentId, 'ping', {}), counts);
  } finally {
    await teardown.run();
  }
}

/** Forks this script as one pair's requesting process, with the flags perf needs. */
async function inRequestingProcess(request: PairRequest): Promise<Profiled> {
  const child = fork(benchScript(`${NAME}.js`), [CHILD_FLAG], {
    execArgv: PERF_NODE_FLAGS,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  try {
    const answer = await ask<{ profiled?: Profiled; error?: string }>(child, request);

    if (answer.profiled === undefined) {
      throw new Error(`profiling ${request.pair} failed: ${answer.error ?? 'no answer'}`);
    }

    return answer.profiled;
  } finally {
    await stopProcess(child);
  }
}

function sideTable(title: string, names: readonly [string, string], sides: readonly [Side, Side]) {
  const [floor, beckon] = sides;
  const buckets = [
    ...new Set([...Object.keys(beckon.microseconds), ...Object.keys(floor.microseconds)]),
  ];
  const total = (side: Side): number => sum(Object.values(side.microseconds));
  const micro = (value: number): string => value.toFixed(1);
  const row = (label: string, base: number, ours: number): string[] => [
    label,
    micro(base),
    micro(ours),
    micro(ours - base),
  ];

  return table(
    [title, ...names, 'difference'],
    [
      ...buckets.map((bucket) =>
        row(bucket, floor.microseconds[bucket] ?? 0, beckon.microseconds[bucket] ?? 0),
      ),
      row('main thread, all samples', total(floor), total(beckon)),
      row('whole process (/proc)', floor.procMicroseconds, beckon.procMicroseconds),
    ],
  );
}

function report(floor: Profiled, beckon: Profiled): string {
  return [
    sideTable(
      'answering side, CPU µs/message',
      ['signed echo', 'beckon agent'],
      [floor.answering, beckon.answering],
    ),
    '',
    sideTable(
      'requesting side, CPU µs/message',
      ['signed requester', 'beckon client'],
      [floor.requesting, beckon.requesting],
    ),
    '',
    `p50 round trip under perf: ${formatMs(floor.p50Ms)} ms signed echo, ` +
      `${formatMs(beckon.p50Ms)} ms beckon ping`,
  ].join('\n');
}

export async function run(quick: boolean): Promise<void> {
  requirePerf();
  const keep = process.env[KEEP_ENV] === '1';
  const counts = quick ? QUICK_COUNTS : FULL_COUNTS;
  const [floor, beckon] = [
    await inRequestingProcess({ pair: 'signed echo', counts, keep }),
    await inRequestingProcess({ pair: 'beckon ping', counts, keep }),
  ];

  print(
    `\n## ${NAME}\n${report(floor, beckon)}\n${counts.measured} messages in sequence each, ` +
      `after ${counts.warmup} untimed; perf at ${SAMPLE_HZ} Hz on both ends at once; ` +
      'perf makes every figure somewhat larger than without it',
  );
  const path = await writeResult(NAME, quick, {
    counts,
    sampleHz: SAMPLE_HZ,
    profiles: [floor, beckon],
  });
  print(`results: ${path}`);

  if (keep) {
    for (const entry of [floor, beckon]) {
      print(
        `${entry.name}: recording in ${RESULTS_DIR}; answering pid ${entry.pids.answering}, ` +
          `requesting pid ${entry.pids.requesting}`,
      );
    }
  }
}

// As a pair's requesting process: one request over IPC and one answer; the parent then
// stops this process (inRequestingProcess).
function serveOnePair(): void {
  process.once('message', (request: PairRequest) => {
    profilePair(request).then(
      (profiled) => process.send?.({ profiled }),
      (error: unknown) => process.send?.({ error: String(error) }),
    );
  });
}

if (process.argv[1]?.endsWith(`/${NAME}.js`) === true) {
  if (process.argv[2] === CHILD_FLAG) {
    serveOnePair();
  } else {
    await run(parseBenchOptions(process.argv.slice(2), process.env).quick);
  }
}
