import { startMosquitto } from '@beckon/test-support';
import { parseBenchOptions, type BenchOptions } from './lib/bench-options.js';
import { connectFleetClient, forkAgentHost, SPAWN_ACTION, startFleet } from './lib/fleet.js';
import { timedPool } from './lib/pool.js';
import { forkServer } from './lib/processes.js';
import { echoSigningKeys, RAW_PAYLOAD_BYTES, RawRequester } from './lib/raw-requester.js';
import { print, writeResult } from './lib/results.js';
import { stopProcess, Teardown } from './lib/teardown.js';
import { formatMs, ratio, table, type LatencySummary } from './lib/stats.js';

// Benchmark 3: a central client sends `ping` to a real agent (another process) and awaits the
// signed round trip, versus a raw MQTT.js request/echo pair, both through one Mosquitto with
// anonymous access so only Beckon's own work differs. Beside it, a signed echo: the same pair
// with one Ed25519 signature made per request and checked before the echo, the least any
// signed command costs, so the table shows how much of the gap is the curve and how much is
// ours. Then a spawned action (/bin/true).

export const NAME = 'round-trip';

interface Counts {
  /**
   * Untimed round trips before each case. On Node 20 the agent's and the client's paths reach
   * V8's optimised code only after a few thousand messages (ping p50 0.74 ms after 300, 0.51 ms
   * after 3,000 and after 12,000, on 2026-12-04), while the raw echo's little code is
   * optimised within a few hundred; too short a warm-up would time Beckon's start-up, not its
   * steady state, and inflate the ratio.
   */
  readonly warmup: number;
  /** Each spawns a process, so a few hundred are enough to warm the runner's own code. */
  readonly spawnWarmup: number;
  readonly sequential: number;
  readonly parallel: number;
  readonly spawnSequential: number;
  readonly spawnParallel: number;
}

const FULL_COUNTS: Counts = {
  warmup: 5_000,
  spawnWarmup: 300,
  sequential: 2_000,
  parallel: 10_000,
  spawnSequential: 1_000,
  spawnParallel: 2_000,
};
const QUICK_COUNTS: Counts = {
  warmup: 500,
  spawnWarmup: 50,
  sequential: 200,
  parallel: 1_000,
  spawnSequential: 100,
  spawnParallel: 200,
};
const IN_FLIGHT = 100;
const RAW_PREFIX = 'bench/rtt';
const SIGNED_PREFIX = 'bench/rtt-signed';
const GOAL_P50_RATIO = 1.5;
/** Room for 100 queued spawns behind the default 4 running. */
const SPAWN_LIMITS = { maxConcurrent: 4, maxQueued: 128 } as const;

interface Case {
  readonly name: string;
  readonly inFlight: number;
  readonly summary: LatencySummary;
  readonly baseline?: string;
  /** The signed echo at the same depth, for the share of the ratio that is not the curve. */
  readonly floor?: string;
}

export async function run(options: BenchOptions): Promise<void> {
  const counts = options.quick ? QUICK_COUNTS : FULL_COUNTS;
  const mosquitto = await startMosquitto();
  const teardown = new Teardown();
  teardown.add(() => mosquitto.dispose());

  try {
    const fleet = await startFleet({
      agents: 1,
      brokerUrl: mosquitto.url,
      protocolVersion: 5,
      limits: SPAWN_LIMITS,
    });
    teardown.add(() => fleet.close());

    const agent = fleet.agents[0];

    if (agent === undefined) {
      throw new Error('the fleet has no agent');
    }

    const host = await forkAgentHost(fleet, [agent], 'round-trip', {
      profileAs: 'agent-host-round-trip',
    });
    teardown.add(() => stopProcess(host.child));

    const echo = await forkServer('servers/raw-echo.js', {
      args: [mosquitto.url, '1', RAW_PREFIX],
    });
    teardown.add(() => stopProcess(echo.child));

    const signing = echoSigningKeys();
    const signedEcho = await forkServer('servers/raw-echo.js', {
      args: [mosquitto.url, '1', SIGNED_PREFIX, signing.publicKeyArg],
    });
    teardown.add(() => stopProcess(signedEcho.child));

    const client = await connectFleetClient(fleet, mosquitto.url);
    teardown.add(() => client.close());

    const raw = await RawRequester.connect(mosquitto.url, RAW_PREFIX);
    teardown.add(() => raw.close());

    const signedRaw = await RawRequester.connect(mosquitto.url, SIGNED_PREFIX, signing.privateKey);
    teardown.add(() => signedRaw.close());

    // The message contract also accepts ES256; P-256 signs and verifies faster than Ed25519
    // with OpenSSL on these machines, so its round trip is measured beside the default's.
    const es256Client = await connectFleetClient(fleet, mosquitto.url, fleet.es256App);
    teardown.add(() => es256Client.close());

    const ping = (): Promise<unknown> => client.send(agent.agentId, 'ping', {});
    const es256Ping = (): Promise<unknown> => es256Client.send(agent.agentId, 'ping', {});
    const spawn = (): Promise<unknown> => client.send(agent.agentId, SPAWN_ACTION, {});
    const echoOnce = (): Promise<unknown> => raw.request(0);
    const signedEchoOnce = (): Promise<unknown> => signedRaw.request(0);

    await timedPool(counts.warmup, 1, ping);
    await timedPool(counts.warmup, 1, echoOnce);
    await timedPool(counts.warmup, 1, signedEchoOnce);
    await timedPool(counts.spawnWarmup, 1, spawn);
    await timedPool(counts.warmup, 1, es256Ping);

    const cases: Case[] = [
      { name: 'raw echo', inFlight: 1, summary: await timedPool(counts.sequential, 1, echoOnce) },
      {
        name: 'signed echo',
        inFlight: 1,
        summary: await timedPool(counts.sequential, 1, signedEchoOnce),
        baseline: 'raw echo',
      },
      {
        name: 'beckon ping',
        inFlight: 1,
        summary: await timedPool(counts.sequential, 1, ping),
        baseline: 'raw echo',
        floor: 'signed echo',
      },
      {
        name: 'beckon ping, ES256',
        inFlight: 1,
        summary: await timedPool(counts.sequential, 1, es256Ping),
        baseline: 'raw echo',
      },
      {
        name: 'raw echo',
        inFlight: IN_FLIGHT,
        summary: await timedPool(counts.parallel, IN_FLIGHT, echoOnce),
      },
      {
        name: 'signed echo',
        inFlight: IN_FLIGHT,
        summary: await timedPool(counts.parallel, IN_FLIGHT, signedEchoOnce),
        baseline: 'raw echo',
      },
      {
        name: 'beckon ping',
        inFlight: IN_FLIGHT,
        summary: await timedPool(counts.parallel, IN_FLIGHT, ping),
        baseline: 'raw echo',
        floor: 'signed echo',
      },
      {
        name: 'beckon ping, ES256',
        inFlight: IN_FLIGHT,
        summary: await timedPool(counts.parallel, IN_FLIGHT, es256Ping),
        baseline: 'raw echo',
      },
      {
        name: `beckon ${SPAWN_ACTION}`,
        inFlight: 1,
        summary: await timedPool(counts.spawnSequential, 1, spawn),
        baseline: 'beckon ping',
      },
      {
        name: `beckon ${SPAWN_ACTION}`,
        inFlight: IN_FLIGHT,
        summary: await timedPool(counts.spawnParallel, IN_FLIGHT, spawn),
        baseline: 'beckon ping',
      },
    ];

    const caseNamed = (name: string | undefined, inFlight: number): Case | undefined =>
      cases.find((other) => other.name === name && other.inFlight === inFlight);
    const baselineOf = (entry: Case): Case | undefined => caseNamed(entry.baseline, entry.inFlight);
    const floorOf = (entry: Case): Case | undefined => caseNamed(entry.floor, entry.inFlight);
    const rows = cases.map((entry) => {
      const baseline = baselineOf(entry);
      const floor = floorOf(entry);

      return [
        entry.name,
        String(entry.inFlight),
        String(entry.summary.count),
        entry.summary.perSecond.toFixed(0),
        formatMs(entry.summary.p50),
        formatMs(entry.summary.p99),
        formatMs(entry.summary.p999),
        formatMs(entry.summary.max),
        String(entry.summary.errors),
        baseline === undefined
          ? '-'
          : `${ratio(entry.summary.p50, baseline.summary.p50)} (vs ${baseline.name})`,
        floor === undefined ? '-' : String(ratio(entry.summary.p50, floor.summary.p50)),
      ];
    });

    print(
      `\n## ${NAME}\n${table(
        [
          'case',
          'in flight',
          'count',
          'per s',
          'p50',
          'p99',
          'p99.9',
          'max',
          'errors',
          'p50 ratio',
          'p50 vs signed echo',
        ],
        rows,
      )}\nlatencies in ms; raw payload ${RAW_PAYLOAD_BYTES} bytes; goal: ping p50 ratio <= ${GOAL_P50_RATIO}`,
    );

    const path = await writeResult(NAME, options.quick, {
      counts,
      inFlight: IN_FLIGHT,
      rawPayloadBytes: RAW_PAYLOAD_BYTES,
      goal: { p50Ratio: GOAL_P50_RATIO },
      cases: cases.map((entry) => {
        const baseline = baselineOf(entry);
        const floor = floorOf(entry);

        return {
          ...entry,
          p50Ratio:
            baseline === undefined ? undefined : ratio(entry.summary.p50, baseline.summary.p50),
          p50VsSignedEcho:
            floor === undefined ? undefined : ratio(entry.summary.p50, floor.summary.p50),
        };
      }),
    });
    print(`results: ${path}`);
  } finally {
    await teardown.run();
  }
}

if (process.argv[1]?.endsWith(`/${NAME}.js`) === true) {
  await run(parseBenchOptions(process.argv.slice(2), process.env));
}
