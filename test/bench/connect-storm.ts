import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '@beckon/auth-service';
import { buildAuthPlugin } from '@beckon/test-support';
import type { StormReport, StormRequest } from './clients/storm.js';
import { benchAuthConfig, writeAuthConfig } from './lib/auth-config.js';
import { parseBenchOptions, type BenchOptions } from './lib/bench-options.js';
import { ask, forkAuthService, forkServer, type ForkedServer } from './lib/processes.js';
import { print, writeResult } from './lib/results.js';
import { prepareSecrets, quietLogger, seedDirectory } from './lib/seed-directory.js';
import { formatMs, median, ratio, summarise, table } from './lib/stats.js';

// Benchmark 2: 2,000 simulated agents (MQTT.js, one process) connect, subscribe to their
// commands topic and publish their retained status, through two brokers: the embedded Aedes
// broker, which asks many questions at once, and Debian's Mosquitto with Beckon's test auth
// plugin (test/support/mosquitto-auth/), which asks one at a time on the broker's only thread
// and stalls every client meanwhile, as deployments do. Each asks the auth-service as
// mosquitto-go-auth does (the plugin in Beckon's broker image: kept-alive connections), as
// mosquitto-auth-plug does (a new connection per request), and not at all (the baseline:
// allow-all hooks in Aedes, `allow_anonymous true` and no plugin in Mosquitto).

export const NAME = 'connect-storm';

const FULL_AGENTS = 2_000;
const QUICK_AGENTS = 200;
const FULL_ROUNDS = 3;
const QUICK_ROUNDS = 1;
/**
 * Connects in flight at once in the paced storm: Mosquitto's listen backlog (PERFORMANCE.md).
 * Unpaced, 2,000 SYNs overflow any backlog and the dropped ones retry after 1, 3 and 7 s, so
 * the time measures TCP's retry schedule more than either broker.
 */
const PACED_PENDING = 100;
const GOAL_RATIO = 1.3;

type BrokerKind = 'aedes' | 'mosquitto';
type Plugin = 'go-auth' | 'plug';
type Mode = 'no auth' | `${Plugin}, cold credential cache` | `${Plugin}, warm credential cache`;
type Pacing = 'paced' | 'all at once';

const BROKERS: readonly BrokerKind[] = ['aedes', 'mosquitto'];
const BROKER_LABELS: Readonly<Record<BrokerKind, string>> = {
  aedes: 'Aedes',
  mosquitto: 'Mosquitto',
};
const BROKER_SCRIPTS: Readonly<Record<BrokerKind, string>> = {
  aedes: 'servers/embedded-broker.js',
  mosquitto: 'servers/mosquitto-broker.js',
};
const PLUGINS: readonly Plugin[] = ['go-auth', 'plug'];
const MODES: readonly Mode[] = [
  'no auth',
  ...PLUGINS.flatMap((plugin) => [
    `${plugin}, cold credential cache` as const,
    `${plugin}, warm credential cache` as const,
  ]),
];

interface Storm {
  readonly broker: BrokerKind;
  readonly pacing: Pacing;
  readonly mode: Mode;
  readonly round: number;
  readonly allSubscribedMs: number;
  readonly allPublishedMs: number;
  readonly slowestConnectMs: number;
  readonly p50ConnectMs: number;
  readonly failures: number;
  readonly refusals: number;
}

function summariseStorms(storms: readonly Storm[], broker: BrokerKind, pacing: Pacing) {
  const medians = MODES.map((mode) => {
    const ofMode = storms.filter((storm) => {
      return storm.broker === broker && storm.mode === mode && storm.pacing === pacing;
    });

    return {
      broker,
      pacing,
      mode,
      rounds: ofMode.length,
      allSubscribedMs: median(ofMode.map((storm) => storm.allSubscribedMs)),
      allPublishedMs: median(ofMode.map((storm) => storm.allPublishedMs)),
      slowestConnectMs: median(ofMode.map((storm) => storm.slowestConnectMs)),
      p50ConnectMs: median(ofMode.map((storm) => storm.p50ConnectMs)),
      failures: ofMode.reduce((sum, storm) => sum + storm.failures, 0),
      refusals: ofMode.reduce((sum, storm) => sum + storm.refusals, 0),
    };
  });
  const baseline = medians[0]?.allSubscribedMs ?? Number.NaN;

  return medians.map((entry) => ({ ...entry, ratio: ratio(entry.allSubscribedMs, baseline) }));
}

export async function run(options: BenchOptions): Promise<void> {
  const agentCount = options.quick ? QUICK_AGENTS : FULL_AGENTS;
  const rounds = options.quick ? QUICK_ROUNDS : FULL_ROUNDS;
  const folder = await mkdtemp(join(tmpdir(), 'beckon-bench-storm-'));
  const stops: (() => Promise<void>)[] = [() => rm(folder, { recursive: true, force: true })];

  try {
    const seed = prepareSecrets({
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
    const pluginPath = await buildAuthPlugin(folder);
    const stormer = await forkServer('clients/storm.js');
    stops.unshift(() => stormer.stop());

    const storms: Storm[] = [];
    let auth: ForkedServer | undefined;
    stops.unshift(async () => auth?.stop());

    const stormOnce = async (
      kind: BrokerKind,
      pacing: Pacing,
      mode: Mode,
      round: number,
      args: string[],
    ): Promise<void> => {
      // Mosquitto is not a Node.js process: there is nothing to profile.
      const broker = await forkServer(BROKER_SCRIPTS[kind], {
        args,
        ...(kind === 'aedes' ? { profileAs: `embedded-broker-${args[0] ?? ''}` } : {}),
      });

      try {
        const request: StormRequest = {
          url: `mqtt://127.0.0.1:${broker.port}`,
          agents,
          ...(pacing === 'paced' ? { maxPending: PACED_PENDING } : {}),
        };
        const report = await ask<StormReport>(stormer.child, request);
        const connects = summarise(Float64Array.from(report.connectMs), report.failures, 1);
        storms.push({
          broker: kind,
          pacing,
          mode,
          round,
          allSubscribedMs: report.allSubscribedMs,
          allPublishedMs: report.allPublishedMs,
          slowestConnectMs: connects.max,
          p50ConnectMs: connects.p50,
          failures: report.failures,
          refusals: report.refusals,
        });
        print(
          `${BROKER_LABELS[kind]}, ${pacing}, ${mode}, round ${round}: all subscribed in ` +
            `${report.allSubscribedMs.toFixed(0)} ms, ${report.refusals} refused connects, ` +
            `${report.failures} failures`,
        );
      } finally {
        await broker.stop();
      }
    };

    const roundOfStorms = async (pacing: Pacing, round: number): Promise<void> => {
      for (const kind of BROKERS) {
        await stormOnce(kind, pacing, 'no auth', round, ['open']);

        for (const plugin of PLUGINS) {
          // A fresh auth-service: nothing verified yet, every CONNECT checks its secret's hash.
          await auth?.stop();
          auth = await forkAuthService(configPath, 'auth-service-storm');
          const args = [plugin, String(auth.port), ...(kind === 'mosquitto' ? [pluginPath] : [])];
          await stormOnce(kind, pacing, `${plugin}, cold credential cache`, round, args);
          // The broker restarts, the auth-service keeps running: the storm after a restart.
          await stormOnce(kind, pacing, `${plugin}, warm credential cache`, round, args);
        }
      }
    };

    for (let round = 1; round <= rounds; round += 1) {
      await roundOfStorms('paced', round);
    }

    await roundOfStorms('all at once', 1);

    const medians = BROKERS.flatMap((kind) => [
      ...summariseStorms(storms, kind, 'paced'),
      ...summariseStorms(storms, kind, 'all at once'),
    ]);
    const rows = medians.map((entry) => [
      BROKER_LABELS[entry.broker],
      entry.pacing === 'paced' ? `${PACED_PENDING} pending at most` : 'all at once',
      entry.mode,
      String(entry.rounds),
      entry.allSubscribedMs.toFixed(0),
      entry.allPublishedMs.toFixed(0),
      formatMs(entry.p50ConnectMs),
      formatMs(entry.slowestConnectMs),
      String(entry.refusals),
      String(entry.failures),
      entry.ratio.toFixed(2),
    ]);

    print(
      `\n## ${NAME}\n${table(
        [
          'broker',
          'connects',
          'auth',
          'rounds',
          'all subscribed ms',
          'all status acked ms',
          'p50 connect ms',
          'slowest connect ms',
          'refused',
          'failures',
          'ratio',
        ],
        rows,
      )}\n${agentCount} agents, medians over rounds; ratio: to the same broker without auth; ` +
        `goal: ratio <= ${GOAL_RATIO}`,
    );

    const path = await writeResult(NAME, options.quick, {
      agents: agentCount,
      rounds,
      pacedPending: PACED_PENDING,
      goal: { ratio: GOAL_RATIO },
      medians,
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
