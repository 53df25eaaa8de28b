import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { agentTopics } from '@beckon/shared';
import { startMosquitto } from '@beckon/test-support';
import mqtt, { type MqttClient } from 'mqtt';
import { parseBenchOptions, type BenchOptions } from './lib/bench-options.js';
import { startFleet } from './lib/fleet.js';
import { benchScript, profileArgs } from './lib/processes.js';
import { readCpuMs, readMemory, type MemoryReading } from './lib/proc-stats.js';
import { print, writeResult } from './lib/results.js';
import { stopProcess, Teardown } from './lib/teardown.js';
import { median, ratio, table } from './lib/stats.js';

// Benchmark 4: the built agent CLI as a real process (`node agent/dist/cli.js run --config`)
// versus a bare Node.js process holding one MQTT.js connection: time from spawn to subscribed
// (seen from outside, as its status arriving), then RSS and CPU over an idle window.

export const NAME = 'footprint';

const FULL_IDLE_MS = 60_000;
const QUICK_IDLE_MS = 10_000;
const FULL_STARTS = 5;
const QUICK_STARTS = 2;
const STATUS_TIMEOUT_MS = 30_000;
const BARE_PREFIX = 'bench/footprint';
const GOAL_RSS_RATIO = 1.3;

/** The built agent CLI, found through the package like any installed copy would be. */
const AGENT_CLI = fileURLToPath(new URL('./cli.js', import.meta.resolve('@beckon/agent')));

interface Subject {
  readonly name: string;
  readonly statusTopic: string;
  spawn(nonce: string): ChildProcess;
  /** Whether a live status message says this spawn is up. */
  isOnline(payload: string, nonce: string): boolean;
}

// Waits for the first live (not retained) status that `subject.isOnline` accepts.
function nextOnline(observer: MqttClient, subject: Subject, nonce: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      observer.off('message', onMessage);
      reject(new Error(`${subject.name} did not come online within ${STATUS_TIMEOUT_MS} ms`));
    }, STATUS_TIMEOUT_MS);
    const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }): void => {
      if (
        topic === subject.statusTopic &&
        !packet.retain &&
        subject.isOnline(payload.toString(), nonce)
      ) {
        clearTimeout(timer);
        observer.off('message', onMessage);
        resolve();
      }
    };
    observer.on('message', onMessage);
  });
}

async function startTimed(
  observer: MqttClient,
  subject: Subject,
): Promise<{ child: ChildProcess; startMs: number }> {
  const nonce = randomUUID();
  const started = performance.now();
  const online = nextOnline(observer, subject, nonce);
  const child = subject.spawn(nonce);

  try {
    await online;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  return { child, startMs: performance.now() - started };
}

interface Footprint {
  readonly name: string;
  readonly startMs: readonly number[];
  readonly medianStartMs: number;
  readonly memory: MemoryReading;
  readonly idleCpuMs: number;
}

export async function run(options: BenchOptions): Promise<void> {
  const idleMs = options.quick ? QUICK_IDLE_MS : FULL_IDLE_MS;
  const starts = options.quick ? QUICK_STARTS : FULL_STARTS;
  const mosquitto = await startMosquitto();
  const teardown = new Teardown();
  teardown.add(() => mosquitto.dispose());

  try {
    const fleet = await startFleet({ agents: 1, brokerUrl: mosquitto.url, protocolVersion: 5 });
    teardown.add(() => fleet.close());

    const observer = await mqtt.connectAsync(mosquitto.url, { protocolVersion: 5 });
    teardown.add(() => observer.endAsync());

    const agent = fleet.agents[0];

    if (agent === undefined) {
      throw new Error('the fleet has no agent');
    }

    const subjects: Subject[] = [
      {
        name: 'bare MQTT.js process',
        statusTopic: `${BARE_PREFIX}/status`,
        spawn: (nonce) =>
          spawn(
            process.execPath,
            [benchScript('servers/bare-mqtt.js'), mosquitto.url, BARE_PREFIX, nonce],
            {
              stdio: 'ignore',
            },
          ),
        isOnline: (payload, nonce) => payload === `online ${nonce}`,
      },
      {
        name: 'beckon-agent run',
        statusTopic: agentTopics(agent.agentId).status,
        spawn: () =>
          spawn(
            process.execPath,
            [...profileArgs('agent-cli'), AGENT_CLI, 'run', '--config', agent.configPath],
            { stdio: ['ignore', 'ignore', 'inherit'] },
          ),
        isOnline: (payload) => (JSON.parse(payload) as { state?: string }).state === 'online',
      },
    ];

    await observer.subscribeAsync(
      subjects.map((subject) => subject.statusTopic),
      { qos: 1 },
    );

    const startTimes = new Map<string, number[]>(subjects.map((subject) => [subject.name, []]));

    // Alternate, so a burst of load from other work on the machine hits both alike.
    for (let round = 0; round < starts; round += 1) {
      for (const subject of subjects) {
        const { child, startMs } = await startTimed(observer, subject);
        startTimes.get(subject.name)?.push(startMs);
        await stopProcess(child);
      }
    }

    // The idle window: both stay up together, measured from outside.
    const idle: { subject: Subject; child: ChildProcess }[] = [];

    for (const subject of subjects) {
      const { child } = await startTimed(observer, subject);
      teardown.add(() => stopProcess(child));
      idle.push({ subject, child });
    }

    const cpuBefore = await Promise.all(idle.map(({ child }) => readCpuMs(child.pid ?? 0)));
    await sleep(idleMs);
    const cpuAfter = await Promise.all(idle.map(({ child }) => readCpuMs(child.pid ?? 0)));
    const footprints: Footprint[] = [];

    for (const [index, { subject, child }] of idle.entries()) {
      const times = startTimes.get(subject.name) ?? [];
      footprints.push({
        name: subject.name,
        startMs: times,
        medianStartMs: median(times),
        memory: await readMemory(child.pid ?? 0),
        idleCpuMs: (cpuAfter[index] ?? 0) - (cpuBefore[index] ?? 0),
      });
    }

    const [bare, agentFigures] = footprints;
    const rssRatio = ratio(
      agentFigures?.memory.rssMiB ?? Number.NaN,
      bare?.memory.rssMiB ?? Number.NaN,
    );
    const rows = footprints.map((entry) => [
      entry.name,
      entry.medianStartMs.toFixed(0),
      entry.memory.rssMiB.toFixed(1),
      entry.memory.peakRssMiB.toFixed(1),
      entry.idleCpuMs.toFixed(0),
    ]);

    print(
      `\n## ${NAME}\n${table(
        [
          'process',
          'start to subscribed ms (median)',
          'RSS MiB',
          'peak RSS MiB',
          `CPU ms in ${idleMs / 1_000} s idle`,
        ],
        rows,
      )}\nRSS ratio ${rssRatio} (goal <= ${GOAL_RSS_RATIO}); ${starts} timed starts each`,
    );

    const path = await writeResult(NAME, options.quick, {
      idleMs,
      starts,
      goal: { rssRatio: GOAL_RSS_RATIO },
      rssRatio,
      footprints,
    });
    print(`results: ${path}`);
  } finally {
    await teardown.run();
  }
}

if (process.argv[1]?.endsWith(`/${NAME}.js`) === true) {
  await run(parseBenchOptions(process.argv.slice(2), process.env));
}
