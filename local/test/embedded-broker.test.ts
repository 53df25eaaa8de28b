import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ACCESS,
  startEmbeddedBroker,
  type AccessCode,
  type BrokerAuthChecks,
  type CheckAnswer,
  type EmbeddedBroker,
} from '../src/index.js';

// Stands in for the auth-service's answers so the broker's handling of each answer can be pinned
// here; the full path through the real auth-service is covered by the end-to-end suite.
class RuleChecks implements BrokerAuthChecks {
  readonly asked: string[] = [];
  passwords = new Map<string, string>([
    ['alice', 'alice-pw'],
    ['bob', 'bob-pw'],
  ]);
  failAuth = false;
  /** `${username} ${acc} ${topic}` entries that are allowed; everything else is denied. */
  allowed = new Set<string>();

  authenticate(username: string, password: string): Promise<CheckAnswer> {
    this.asked.push(`auth ${username}`);
    if (this.failAuth) {
      return Promise.resolve('error');
    }

    return Promise.resolve(this.passwords.get(username) === password ? 'yes' : 'no');
  }

  checkAcl(username: string, topic: string, access: AccessCode): Promise<CheckAnswer> {
    this.asked.push(`acl ${username} ${access} ${topic}`);

    return Promise.resolve(this.allowed.has(`${username} ${access} ${topic}`) ? 'yes' : 'no');
  }

  allow(username: string, access: AccessCode, ...topics: string[]): void {
    for (const topic of topics) {
      this.allowed.add(`${username} ${access} ${topic}`);
    }
  }
}

let checks: RuleChecks;
let broker: EmbeddedBroker;
const clients: MqttClient[] = [];

beforeEach(async () => {
  checks = new RuleChecks();
  broker = await startEmbeddedBroker({ checks, logger: pino({ level: 'silent' }), port: 0 });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
  await broker.close();
});

async function connect(
  username: string,
  options: { clientId?: string; clean?: boolean } = {},
): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    username,
    password: checks.passwords.get(username) ?? 'wrong',
    protocolVersion: 4,
    reconnectPeriod: 0,
    clientId: options.clientId ?? `${username}-${Math.random().toString(36).slice(2)}`,
    clean: options.clean ?? true,
  });
  clients.push(client);

  return client;
}

function nextMessage(client: MqttClient): Promise<[string, Buffer]> {
  return new Promise((resolve) => {
    client.once('message', (topic, payload) => resolve([topic, payload]));
  });
}

function collect(client: MqttClient): string[] {
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic}=${payload.toString()}`));

  return seen;
}

describe('embedded broker asking the auth-service', () => {
  it('refuses a login the auth-service denies with CONNACK not authorised', async () => {
    await expect(
      mqtt.connectAsync(broker.url, {
        username: 'alice',
        password: 'nope',
        protocolVersion: 4,
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Not authorized/i);
  });

  it('asks about a storm of logins a few at a time and lets every one in', async () => {
    const LIMIT = 2;
    const CLIENTS = 8;
    const HOLD_MS = 10;
    let inFlight = 0;
    let mostAtOnce = 0;
    const slowChecks: BrokerAuthChecks = {
      authenticate: async () => {
        inFlight += 1;
        mostAtOnce = Math.max(mostAtOnce, inFlight);
        await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
        inFlight -= 1;

        return 'yes';
      },
      checkAcl: () => Promise.resolve('no'),
    };
    const limited = await startEmbeddedBroker({
      checks: slowChecks,
      logger: pino({ level: 'silent' }),
      port: 0,
      maxConcurrentLogins: LIMIT,
    });

    try {
      const storm = await Promise.all(
        Array.from({ length: CLIENTS }, (_, index) =>
          mqtt.connectAsync(limited.url, {
            username: `agent-${index}`,
            password: 'secret',
            protocolVersion: 4,
            reconnectPeriod: 0,
          }),
        ),
      );
      await Promise.all(storm.map((client) => client.endAsync(true)));
    } finally {
      await limited.close();
    }

    expect(mostAtOnce).toBeLessThanOrEqual(LIMIT);
  });

  it('refuses a login when the auth-service cannot answer', async () => {
    checks.failAuth = true;

    await expect(
      mqtt.connectAsync(broker.url, {
        username: 'alice',
        password: 'alice-pw',
        protocolVersion: 4,
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Server unavailable/i);
  });

  it('acknowledges a denied QoS 1 publish, drops it, and keeps the publisher connected', async () => {
    checks.allow('alice', ACCESS.subscribe, 'room/#');
    checks.allow('alice', ACCESS.read, 'room/ok');
    checks.allow('bob', ACCESS.write, 'room/ok');
    const alice = await connect('alice');
    const seen = collect(alice);
    await alice.subscribeAsync('room/#', { qos: 1 });
    const bob = await connect('bob');

    const delivered = nextMessage(alice);
    await bob.publishAsync('room/secret', 'denied', { qos: 1 });
    await bob.publishAsync('room/ok', 'allowed', { qos: 1 });
    await delivered;

    expect(seen).toEqual(['room/ok=allowed']);
    expect(bob.connected).toBe(true);
  });

  it('answers a denied subscription with the failure code and grants the others', async () => {
    checks.allow('alice', ACCESS.subscribe, 'ok/x');
    const alice = await connect('alice');

    // MQTT.js turns a 128 in the SUBACK into an error that carries the packet.
    const error = await alice.subscribeAsync({ 'deny/x': { qos: 1 }, 'ok/x': { qos: 1 } }).then(
      () => undefined,
      (reason: unknown) => reason as { packet?: { granted?: number[] } },
    );

    expect(error?.packet?.granted).toEqual([128, 1]);
    expect(alice.connected).toBe(true);
  });

  it('delivers through a wildcard only what the subscriber may read', async () => {
    checks.allow('alice', ACCESS.subscribe, 'agents/+/results');
    checks.allow('alice', ACCESS.read, 'agents/a1/results');
    checks.allow('bob', ACCESS.write, 'agents/a1/results', 'agents/a2/results');
    const alice = await connect('alice');
    const seen = collect(alice);
    await alice.subscribeAsync('agents/+/results', { qos: 1 });
    const bob = await connect('bob');

    const delivered = nextMessage(alice);
    await bob.publishAsync('agents/a2/results', 'not for alice', { qos: 1 });
    await bob.publishAsync('agents/a1/results', 'for alice', { qos: 1 });
    await delivered;

    expect(seen).toEqual(['agents/a1/results=for alice']);
    expect(checks.asked).toContain('acl alice 1 agents/a2/results');
  });

  it('checks retained messages against the subscriber before sending them', async () => {
    checks.allow('bob', ACCESS.write, 'status/a1', 'status/a2');
    checks.allow('alice', ACCESS.subscribe, 'status/+');
    checks.allow('alice', ACCESS.read, 'status/a1');
    const bob = await connect('bob');
    await bob.publishAsync('status/a1', 'online', { qos: 1, retain: true });
    await bob.publishAsync('status/a2', 'online', { qos: 1, retain: true });

    const alice = await connect('alice');
    const seen = collect(alice);
    const delivered = nextMessage(alice);
    await alice.subscribeAsync('status/+', { qos: 1 });
    await delivered;

    expect(seen).toEqual(['status/a1=online']);
  });

  it('asks about no retained message once it is cleared with an empty payload', async () => {
    checks.allow('bob', ACCESS.write, 'status/a1', 'status/a2');
    checks.allow('alice', ACCESS.subscribe, 'status/+');
    checks.allow('alice', ACCESS.read, 'status/a1', 'status/a2');
    const bob = await connect('bob');
    await bob.publishAsync('status/a1', 'online', { qos: 1, retain: true });
    await bob.publishAsync('status/a2', 'online', { qos: 1, retain: true });
    await bob.publishAsync('status/a1', '', { qos: 1, retain: true });

    const alice = await connect('alice');
    const seen = collect(alice);
    const delivered = nextMessage(alice);
    await alice.subscribeAsync('status/+', { qos: 1 });
    await delivered;

    expect(seen).toEqual(['status/a2=online']);
    expect(checks.asked).toContain('acl alice 1 status/a2');
    expect(checks.asked).not.toContain('acl alice 1 status/a1');
  });

  it('stops asking about a subscriber once it unsubscribes', async () => {
    checks.allow('alice', ACCESS.subscribe, 'agents/+/results');
    checks.allow('alice', ACCESS.read, 'agents/a1/results');
    checks.allow('bob', ACCESS.write, 'agents/a1/results');
    const alice = await connect('alice');
    await alice.subscribeAsync('agents/+/results', { qos: 1 });
    const bob = await connect('bob');
    await bob.publishAsync('agents/a1/results', 'one', { qos: 1 });

    expect(checks.asked).toContain('acl alice 1 agents/a1/results');

    await alice.unsubscribeAsync('agents/+/results');
    checks.asked.length = 0;
    await bob.publishAsync('agents/a2/results', 'two', { qos: 1 });

    expect(checks.asked).toEqual(['acl bob 2 agents/a2/results']);
  });

  it('delivers messages queued for a persistent session when it returns', async () => {
    checks.allow('alice', ACCESS.subscribe, 'inbox/alice');
    checks.allow('alice', ACCESS.read, 'inbox/alice');
    checks.allow('bob', ACCESS.write, 'inbox/alice');
    const first = await connect('alice', { clientId: 'alice-session', clean: false });
    await first.subscribeAsync('inbox/alice', { qos: 1 });
    await first.endAsync();

    const bob = await connect('bob');
    await bob.publishAsync('inbox/alice', 'while you were away', { qos: 1 });

    const again = mqtt.connect(broker.url, {
      username: 'alice',
      password: 'alice-pw',
      protocolVersion: 4,
      reconnectPeriod: 0,
      clientId: 'alice-session',
      clean: false,
    });
    clients.push(again);
    const [topic, payload] = await nextMessage(again);

    expect(`${topic}=${payload.toString()}`).toBe('inbox/alice=while you were away');
  });
});
