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
});

export type StormRequest = z.infer<typeof StormRequest>;

export interface StormReport {
  /** From the first connect call until every agent's SUBACK. */
  readonly allSubscribedMs: number;
  /** ... and every retained status acknowledged. */
  readonly allPublishedMs: number;
  readonly connectMs: number[];
  readonly failures: number;
}

const PROTOCOL_VERSION = 4;
/** MQTT.js' default: a refused or dropped connect is retried after a second, like an agent's. */
const RECONNECT_PERIOD_MS = 1_000;
const CONNECT_TIMEOUT_MS = 30_000;
const SUBSCRIPTION_REFUSED = 128;

interface Timings {
  connectMs: number;
  subscribedAt: number;
  publishedAt: number;
}

function stormAgent(
  url: string,
  username: string,
  password: string,
  start: number,
): { client: MqttClient; done: Promise<Timings> } {
  const topics = agentTopics(username);
  const client = mqtt.connect(url, {
    clientId: `beckon-agent-${username}`,
    protocolVersion: PROTOCOL_VERSION,
    clean: false,
    username,
    password,
    reconnectPeriod: RECONNECT_PERIOD_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  const done = new Promise<Timings>((resolve, reject) => {
    client.once('connect', () => {
      const connectMs = performance.now() - start;

      if (client.stream instanceof Socket) {
        client.stream.setNoDelay(true);
      }

      client.subscribe(topics.commands, { qos: 1 }, (error, granted) => {
        if (error !== null || granted?.[0]?.qos === SUBSCRIPTION_REFUSED) {
          reject(error ?? new Error(`${username}: subscription refused`));
          return;
        }

        const subscribedAt = performance.now() - start;
        const status = JSON.stringify({ kind: 'status', agentId: username, state: 'online' });
        client.publish(topics.status, status, { qos: 1, retain: true }, (publishError) => {
          // MQTT.js passes null or nothing for success, depending on the path.
          if (publishError instanceof Error) {
            reject(publishError);
          } else {
            resolve({ connectMs, subscribedAt, publishedAt: performance.now() - start });
          }
        });
      });
    });
  });

  return { client, done };
}

async function storm(request: StormRequest): Promise<StormReport> {
  const start = performance.now();
  const agents = request.agents.map(({ username, password }) =>
    stormAgent(request.url, username, password, start),
  );
  const settled = await Promise.allSettled(agents.map((agent) => agent.done));
  const timings = settled.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );

  await Promise.all(agents.map(({ client }) => client.endAsync(true)));

  return {
    allSubscribedMs: Math.max(...timings.map((timing) => timing.subscribedAt)),
    allPublishedMs: Math.max(...timings.map((timing) => timing.publishedAt)),
    connectMs: timings.map((timing) => timing.connectMs),
    failures: settled.length - timings.length,
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
