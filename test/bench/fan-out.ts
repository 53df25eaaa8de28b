import { startMosquitto } from '@beckon/test-support';
import { parseBenchOptions, type BenchOptions } from './lib/bench-options.js';
import { connectFleetClient, forkAgentHost, startFleet } from './lib/fleet.js';
import { forkServer, type ForkedServer } from './lib/processes.js';
import { echoSigningKeys, RawRequester } from './lib/raw-requester.js';
import { print, writeResult } from './lib/results.js';
import { stopProcess, Teardown } from './lib/teardown.js';
import { median, ratio, table } from './lib/stats.js';

// Benchmark 5: one `sendMany` of `ping` to 500 real agents (startAgent, in a few processes of
// their own), every outcome gathered, versus a raw MQTT fan-out to 500 plain MQTT.js echo
// clients, through one Mosquitto with anonymous access; and a signed raw fan-out, the floor of
// any signed fan-out: each request signed with Ed25519, each echo client verifying it first,
// the echo clients split over as many processes as the agents are.

export const NAME = 'fan-out';

const FULL_AGENTS = 500;
const QUICK_AGENTS = 50;
const FULL_ROUNDS = 3;
const QUICK_ROUNDS = 1;
/**
 * Untimed rounds first. One round is only 250 pings per agent host and 500 per raw echo
 * process, far from the few thousand messages after which V8 runs the agents' and the
 * client's paths optimised (section 3 of docs/performance.md); ten take every process there.
 */
const FULL_WARMUP_ROUNDS = 10;
const QUICK_WARMUP_ROUNDS = 2;
/** Agents per host process: 500 real agents in one process would share one event loop. */
const AGENTS_PER_HOST = 250;
const RAW_PREFIX = 'bench/fan';
const SIGNED_PREFIX = 'bench/fan-signed';
/** sendMany's own default, kept as a second case: it bounds the commands in flight. */
const DEFAULT_CONCURRENCY = 10;
const GOAL_RATIO = 2;
const BYTES_PER_MIB = 1_024 * 1_024;

type Case =
  | 'raw fan-out'
  | 'signed raw fan-out'
  | 'sendMany, all at once'
  | 'sendMany, default concurrency (10)';

interface Timed {
  readonly case: Case;
  readonly round: number;
  readonly ms: number;
  readonly succeeded: number;
}

export async function run(options: BenchOptions): Promise<void> {
  const agentCount = options.quick ? QUICK_AGENTS : FULL_AGENTS;
  const rounds = options.quick ? QUICK_ROUNDS : FULL_ROUNDS;
  const warmupRounds = options.quick ? QUICK_WARMUP_ROUNDS : FULL_WARMUP_ROUNDS;
  const mosquitto = await startMosquitto();
  const teardown = new Teardown();
  teardown.add(() => mosquitto.dispose());

  try {
    const enrolling = performance.now();
    const fleet = await startFleet({
      agents: agentCount,
      brokerUrl: mosquitto.url,
      protocolVersion: 5,
    });
    teardown.add(() => fleet.close());
    print(
      `${agentCount} agents enrolled in ${((performance.now() - enrolling) / 1_000).toFixed(1)} s`,
    );

    const hosts: ForkedServer[] = [];
    const starting = performance.now();

    for (let start = 0; start < agentCount; start += AGENTS_PER_HOST) {
      const slice = fleet.agents.slice(start, start + AGENTS_PER_HOST);
      const host = await forkAgentHost(fleet, slice, `fan-out-${start}`, {
        profileAs: `agent-host-fan-out-${start}`,
      });
      hosts.push(host);
      teardown.add(() => stopProcess(host.child));
    }

    const hostRssMiB = hosts.map((host) => Number(host.info['rssBytes']) / BYTES_PER_MIB);
    print(
      `agents started in ${((performance.now() - starting) / 1_000).toFixed(1)} s; host RSS ` +
        hostRssMiB.map((rss) => `${rss.toFixed(0)} MiB`).join(', '),
    );

    const echo = await forkServer('servers/raw-echo.js', {
      args: [mosquitto.url, String(agentCount), RAW_PREFIX],
    });
    teardown.add(() => stopProcess(echo.child));

    const client = await connectFleetClient(fleet, mosquitto.url);
    teardown.add(() => client.close());

    const raw = await RawRequester.connect(mosquitto.url, RAW_PREFIX);
    teardown.add(() => raw.close());

    // One signed echo process and one requester per agent host, so the verifications spread
    // over the cores as the agents' do.
    const signing = echoSigningKeys();
    const signedSlices: { requester: RawRequester; count: number }[] = [];

    for (let start = 0; start < agentCount; start += AGENTS_PER_HOST) {
      const count = Math.min(AGENTS_PER_HOST, agentCount - start);
      const prefix = `${SIGNED_PREFIX}-${start}`;
      const signedEcho = await forkServer('servers/raw-echo.js', {
        args: [mosquitto.url, String(count), prefix, signing.publicKeyArg],
      });
      teardown.add(() => stopProcess(signedEcho.child));
      const requester = await RawRequester.connect(mosquitto.url, prefix, signing.privateKey);
      teardown.add(() => requester.close());
      signedSlices.push({ requester, count });
    }

    const agentIds = fleet.agents.map((agent) => agent.agentId);
    const indexes = agentIds.map((_, index) => index);
    const cases: Record<Case, () => Promise<number>> = {
      'raw fan-out': async () => {
        await Promise.all(indexes.map((index) => raw.request(index)));

        return agentCount;
      },
      'signed raw fan-out': async () => {
        await Promise.all(
          signedSlices.flatMap(({ requester, count }) =>
            Array.from({ length: count }, (_, index) => requester.request(index)),
          ),
        );

        return agentCount;
      },
      'sendMany, all at once': async () =>
        (await client.sendMany(agentIds, 'ping', {}, { concurrency: agentCount })).succeeded,
      'sendMany, default concurrency (10)': async () =>
        (await client.sendMany(agentIds, 'ping', {}, { concurrency: DEFAULT_CONCURRENCY }))
          .succeeded,
    };
    const timed: Timed[] = [];

    // Untimed rounds warm every path (JIT, the agents' verified-credential caches).
    for (let round = 1; round <= warmupRounds; round += 1) {
      for (const fanOut of Object.values(cases)) {
        await fanOut();
      }
    }

    for (let round = 1; round <= rounds; round += 1) {
      for (const [name, fanOut] of Object.entries(cases) as [Case, () => Promise<number>][]) {
        const started = performance.now();
        const succeeded = await fanOut();
        timed.push({ case: name, round, ms: performance.now() - started, succeeded });
      }
    }

    const medians = (Object.keys(cases) as Case[]).map((name) => {
      const runs = timed.filter((entry) => entry.case === name);

      return {
        case: name,
        ms: median(runs.map((entry) => entry.ms)),
        succeeded: Math.min(...runs.map((entry) => entry.succeeded)),
      };
    });
    const baseline = medians[0]?.ms ?? Number.NaN;
    const floor = medians.find((entry) => entry.case === 'signed raw fan-out')?.ms ?? Number.NaN;
    const rows = medians.map((entry) => [
      entry.case,
      entry.ms.toFixed(0),
      `${entry.succeeded}/${agentCount}`,
      ratio(entry.ms, baseline).toFixed(2),
      entry.case.startsWith('sendMany') ? ratio(entry.ms, floor).toFixed(2) : '-',
    ]);

    print(
      `\n## ${NAME}\n${table(['case', 'all outcomes ms', 'succeeded', 'ratio', 'vs signed raw'], rows)}\n` +
        `${agentCount} agents in ${hosts.length} host process(es), medians of ${rounds} round(s) ` +
        `after ${warmupRounds} untimed; ` +
        `goal: ratio <= ${GOAL_RATIO}`,
    );

    const path = await writeResult(NAME, options.quick, {
      agents: agentCount,
      hosts: hosts.length,
      hostRssMiB,
      rounds,
      warmupRounds,
      goal: { ratio: GOAL_RATIO },
      medians: medians.map((entry) => ({
        ...entry,
        ratio: ratio(entry.ms, baseline),
        vsSignedRaw: ratio(entry.ms, floor),
      })),
      runs: timed,
    });
    print(`results: ${path}`);
  } finally {
    await teardown.run();
  }
}

if (process.argv[1]?.endsWith(`/${NAME}.js`) === true) {
  await run(parseBenchOptions(process.argv.slice(2), process.env));
}
