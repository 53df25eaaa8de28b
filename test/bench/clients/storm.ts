import { Socket } from 'node:net';
import { agentTopics } from '@beckon/shared';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';

// Simulated agents, all in this one process (apart from the broker and the auth-service): each
// connects as an agent does (persistent session, its own credentials), subscribes to its
// commands topic and publishes its retained status. One storm per IPC request.

const StormRequest = z.strictObject({
  url: z.url(),
  agents: z.array(z.strictObject({ username: z.string(), password: z.string() })).min(1),
  /** Connects waiting for their CONNACK at most; absent: every agent at once. */
  maxPending: z.number().int().positive().optional(),
});

export type StormRequest = z.infer<typeof StormRequest>;

export interface StormReport {
  /** From the first connect call until every agent's SUBACK. */
  readonly allSubscribedMs: number;
  /** ... and every retained status acknowledged. */
  readonly allPublishedMs: number;
  /** Each agent's own connect call to CONNACK. */
  readonly connectMs: number[];
  /** Agents still not done when the storm's time ran out. */
  readonly failures: number;
  /** CONNACKs refusing the credentials (each such agent then tried again). */
  readonly refusals: number;
}

const PROTOCOL_VERSION = 4;
/** MQTT.js' default: a refused or dropped connect is retried after a second. */
const RECONNECT_PERIOD_MS = 1_000;
const CONNECT_TIMEOUT_MS = 30_000;
const SUBSCRIPTION_REFUSED = 128;
/** A storm that has not finished by then is reported with its stragglers as failures. */
const STORM_TIMEOUT_MS = 120_000;
/** MQTT 3.1.1 CONNACK codes: bad user name or password, not authorised. */
const CREDENTIALS_REFUSED = new Set([4, 5]);

interface Timings {
  readonly connectMs: number;
  readonly subscribedAt: number;
  readonly publishedAt: number;
}

interface StormAgent {
  readonly client: MqttClient;
  /** Resolves at CONNACK: the next paced agent may start. */
  readonly connected: Promise<void>;
  readonly done: Promise<Timings>;
}

function stormAgent(
  url: string,
  agent: { username: string; password: string },
  stormStart: number,
  onRefusal: () => void,
): StormAgent {
  const { username, password } = agent;
  const topics = agentTopics(username);
  const ownStart = performance.now();
  const client = mqtt.connect(url, {
    clientId: `beckon-agent-${username}`,
    protocolVersion: PROTOCOL_VERSION,
    clean: false,
    username,
    password,
    reconnectPeriod: RECONNECT_PERIOD_MS,
    // A refused CONNACK is counted and retried (a real agent would wait 15-30 s instead).
    reconnectOnConnackError: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });

  client.on('error', (error: Error & { code?: unknown }) => {
    if (typeof error.code === 'number' && CREDENTIALS_REFUSED.has(error.code)) {
      onRefusal();
    }
  });

  const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const done = new Promise<Timings>((resolve, reject) => {
    client.once('connect', () => {
      const connectMs = performance.now() - ownStart;

      if (client.stream instanceof Socket) {
        client.stream.setNoDelay(true);
      }

      client.subscribe(topics.commands, { qos: 1 }, (error, granted) => {
        if (error !== null || granted?.[0]?.qos === SUBSCRIPTION_REFUSED) {
          reject(error ?? new Error(`${username}: subscription refused`));
          return;
        }

        const subscribedAt = performance.now() - stormStart;
        const status = JSON.stringify({ kind: 'status', agentId: username, state: 'online' });
        client.publish(topics.status, status, { qos: 1, retain: true }, (publishError) => {
          // MQTT.js passes null or nothing for success, depending on the path.
          if (publishError instanceof Error) {
            reject(publishError);
          } else {
            resolve({ connectMs, subscribedAt, publishedAt: performance.now() - stormStart });
          }
        });
      });
    });
  });

  return { client, connected, done };
}

function withDeadline<T>(promise: Promise<T>, deadline: Promise<void>): Promise<T> {
  return Promise.race([
    promise,
    deadline.then(() => Promise.reject(new Error('the storm ran out of time'))),
  ]);
}

async function storm(request: StormRequest): Promise<StormReport> {
  const start = performance.now();
  const agents: StormAgent[] = [];
  let refusals = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, STORM_TIMEOUT_MS);
  });
  const launch = (index: number): StormAgent | undefined => {
    const spec = request.agents[index];

    if (spec === undefined || stopped) {
      return undefined;
    }

    const agent = stormAgent(request.url, spec, start, () => {
      refusals += 1;
    });
    agents.push(agent);

    return agent;
  };

  // Paced: a fixed number of lanes, each starting its next agent at the previous one's CONNACK.
  const lanes = request.maxPending ?? request.agents.length;
  let next = 0;
  await withDeadline(
    Promise.all(
      Array.from({ length: Math.min(lanes, request.agents.length) }, async () => {
        for (let agent = launch(next++); agent !== undefined; agent = launch(next++)) {
          await agent.connected;
        }
      }),
    ),
    deadline,
  ).catch(() => undefined);

  const settled = await Promise.allSettled(
    agents.map((agent) => withDeadline(agent.done, deadline)),
  );
  clearTimeout(timer);
  stopped = true;

  const timings = settled.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );

  await Promise.all(agents.map(({ client }) => client.endAsync(true)));

  return {
    allSubscribedMs: Math.max(...timings.map((timing) => timing.subscribedAt)),
    allPublishedMs: Math.max(...timings.map((timing) => timing.publishedAt)),
    connectMs: timings.map((timing) => timing.connectMs),
    failures: request.agents.length - timings.length,
    refusals,
  };
}

process.on('message', (message: unknown) => {
  storm(StormRequest.parse(message)).then(
    (report) => process.send?.(report),
    (error: unknown) => {
      process.stderr.write(`storm failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
});
process.once('SIGTERM', () => process.exit(0));
process.send?.({ port: 0 });
