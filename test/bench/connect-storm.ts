import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '@beckon/auth-service';
import type { StormReport } from './clients/storm.js';
import { benchAuthConfig, writeAuthConfig } from './lib/auth-config.js';
import { parseBenchOptions, type BenchOptions } from './lib/bench-options.js';
import { ask, forkServer, type ForkedServer } from './lib/processes.js';
import { print, writeResult } from './lib/results.js';
import { prepareSecrets, quietLogger, seedDirectory } from './lib/seed-directory.js';
import { formatMs, ratio, summarise, table } from './lib/stats.js';

// Benchmark 2: 2,000 simulated agents (MQTT.js, one process) connect, subscribe to their
// commands topic and publish their retained status through the embedded Aedes broker, once
// asking the auth-service every question over the plug's requests and once with allow-all
// hooks. There is no Mosquitto with the auth plugin on this machine, so Aedes stands in.

export const NAME = 'connect-storm';

const FULL_AGENTS = 2_000;
const QUICK_AGENTS = 200;
const FULL_ROUNDS = 3;
const QUICK_ROUNDS = 1;
const GOAL_RATIO = 1.3;

type Mode = 'no auth' | 'auth, cold credential cache' | 'auth, warm credential cache';

interface Storm {
  readonly mode: Mode;
  readonly round: number;
  readonly allSubscribedMs: number;
  readonly allPublishedMs: number;
  readonly slowestConnectMs: number;
  readonly p50ConnectMs: number;
  readonly failures: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);

  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function run(options: BenchOptions): Promise<void> {
  const agentCount = options.quick ? QUICK_AGENTS : FULL_AGENTS;
  const rounds = options.quick ? QUICK_ROUNDS : FULL_ROUNDS;
  const folder = await mkdtemp(join(tmpdir(), 'beckon-bench-storm-'));
  const stops: (() => Promise<void>)[] = [() => rm(folder, { recursive: true, force: true })];

  try {
    const seed = await prepareSecrets({
      agents: agentCount,
      apps: 1,
      grants: 0,
      rules: 0,
      sites: 20,
    });
    const storeConfig = { kind: 'sqlite', path: join(folder, 'auth.db') } as const;
    const store = await openStore(storeConfig, quietLogger);
    await seedDirectory(store, seed).finally(() => store.close());

    const configPath = join(folder, 'auth.json');
    await writeAuthConfig(configPath, benchAuthConfig(storeConfig));

    const agents = seed.agentIds.map((username) => ({
      username,
      password: seed.secrets.get(username) ?? '',
    }));
    const stormer = await forkServer('clients/storm.js');
    stops.unshift(() => stormer.stop());

    const storms: Storm[] = [];
    let auth: ForkedServer | undefined;
    stops.unshift(async () => auth?.stop());

    const stormOnce = async (mode: Mode, round: number, args: string[]): Promise<void> => {
      const broker = await forkServer('servers/embedded-broker.js', {
        args,
        profileAs: `embedded-broker-${args[0] ?? ''}`,
      });

      try {
        const url = `mqtt://127.0.0.1:${broker.port}`;
        const report = await ask<StormReport>(stormer.child, { url, agents });
        const connects = summarise(Float64Array.from(report.connectMs), report.failures, 1);
        storms.push({
          mode,
          round,
          allSubscribedMs: report.allSubscribedMs,
          allPublishedMs: report.allPublishedMs,
          slowestConnectMs: connects.max,
          p50ConnectMs: connects.p50,
          failures: report.failures,
        });
        print(`${mode}, round ${round}: all subscribed in ${report.allSubscribedMs.toFixed(0)} ms`);
      } finally {
        await broker.stop();
      }
    };

    for (let round = 1; round <= rounds; round += 1) {
      await stormOnce('no auth', round, ['open']);

      // A fresh auth-service: nothing verified yet, every CONNECT runs the scrypt hash.
      await auth?.stop();
      auth = await forkServer('servers/auth-service.js', {
        args: [configPath],
        profileAs: 'auth-service-storm',
      });
      await stormOnce('auth, cold credential cache', round, ['auth', String(auth.port)]);
      // The broker restarts, the auth-service keeps running: the storm after a broker restart.
      await stormOnce('auth, warm credential cache', round, ['auth', String(auth.port)]);
    }

    const modes: Mode[] = ['no auth', 'auth, cold credential cache', 'auth, warm credential cache'];
    const medians = modes.map((mode) => {
      const ofMode = storms.filter((storm) => storm.mode === mode);

      return {
        mode,
        allSubscribedMs: median(ofMode.map((storm) => storm.allSubscribedMs)),
        allPublishedMs: median(ofMode.map((storm) => storm.allPublishedMs)),
        slowestConnectMs: median(ofMode.map((storm) => storm.slowestConnectMs)),
        p50ConnectMs: median(ofMode.map((storm) => storm.p50ConnectMs)),
        failures: ofMode.reduce((sum, storm) => sum + storm.failures, 0),
      };
    });
    const baseline = medians[0]?.allSubscribedMs ?? Number.NaN;
    const rows = medians.map((entry) => [
      entry.mode,
      entry.allSubscribedMs.toFixed(0),
      entry.allPublishedMs.toFixed(0),
      formatMs(entry.p50ConnectMs),
      formatMs(entry.slowestConnectMs),
      String(entry.failures),
      ratio(entry.allSubscribedMs, baseline).toFixed(2),
    ]);

    print(
      `\n## ${NAME}\n${table(
        [
          'broker',
          'all subscribed ms',
          'all status acked ms',
          'p50 connect ms',
          'slowest connect ms',
          'failures',
          'ratio',
        ],
        rows,
      )}\n${agentCount} agents at once, medians of ${rounds} round(s); goal: ratio <= ${GOAL_RATIO}`,
    );

    const path = await writeResult(NAME, options.quick, {
      agents: agentCount,
      rounds,
      goal: { ratio: GOAL_RATIO },
      medians: medians.map((entry) => ({
        ...entry,
        ratio: ratio(entry.allSubscribedMs, baseline),
      })),
      storms,
    });
    print(`results: ${path}`);
  } finally {
    for (const stop of stops) {
      await stop();
    }
  }
}

if (process.argv[1]?.endsWith(`/${NAME}.js`) === true) {
  await run(parseBenchOptions(process.argv.slice(2), process.env));
}
