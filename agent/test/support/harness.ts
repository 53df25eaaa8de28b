import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseMessage,
  type Cancel,
  type Command,
  type Message,
  type Result,
  type Status,
  type TrustRoot,
} from '@beckon/shared';
import type { RunningMosquitto } from '@beckon/test-support';
import mqtt, { type MqttClient } from 'mqtt';
import { startAgent, type Agent } from '../../src/agent.js';
import { validateConfig } from '../../src/config/load-config.js';
import type { AgentConfig } from '../../src/config/schema.js';
import { writeCredentials } from '../../src/enroll/credentials-file.js';
import { createLogger } from '../../src/logger.js';
import type { ReconnectTimings } from '../../src/mqtt/reconnect-schedule.js';
import { testCatalogue, TestRunner } from './test-runner.js';
import { Collector } from './wait.js';

/** Reconnect quickly: these tests are about what survives a reconnect, not its pacing. */
export const FAST_RECONNECT: ReconnectTimings = {
  firstSpreadMs: 300,
  baseMs: 100,
  capMs: 1_000,
  authBaseMs: 2_000,
  authCapMs: 8_000,
  minMs: 50,
};

/** Outlives any test, so a persistent observer misses nothing across broker restarts. */
const OBSERVER_SESSION_EXPIRY_SECONDS = 600;

export const TEST_ACTIONS = {
  echo: {
    description: 'Prints its argument',
    argv: ['/test/echo', { arg: 'text' }],
    args: { text: { type: 'string', maxLength: 64, pattern: '[a-z0-9 -]*' } },
  },
  fail: { argv: ['/test/fail'] },
  hang: { argv: ['/test/hang'] },
  broken: { argv: ['/test/broken'] },
  secretive: {
    argv: ['/test/echo', { arg: 'passphrase' }],
    args: { passphrase: { type: 'string', secret: true } },
  },
};

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface TestAgentOptions {
  readonly broker: RunningMosquitto;
  readonly trustRoot: TrustRoot;
  /** Reuse a folder (state and credentials) across restarts of the agent. */
  readonly dir?: string;
  readonly agentId?: string;
  readonly groups?: readonly string[];
  readonly password?: string;
  readonly protocolVersion?: 4 | 5;
  readonly requireSignatures?: boolean;
  readonly runner?: TestRunner;
  readonly shutdownGraceSeconds?: number;
  readonly timings?: ReconnectTimings;
  /** Leave the credentials file alone (a test wrote its own). */
  readonly keepCredentials?: boolean;
  /** The auth-service to refresh the trust root and groups from. */
  readonly authUrl?: string;
  /** Broker settings beyond the test broker's plain URL (TLS). */
  readonly brokerOverrides?: { url: string; caFile: string; serverName: string };
}

export interface TestAgent {
  readonly agent: Agent;
  readonly runner: TestRunner;
  readonly config: Readonly<AgentConfig>;
  readonly dir: string;
  readonly credentialsFile: string;
  readonly logs: Collector<LogLine>;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `beckon-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function testConfig(options: {
  brokerUrl: string;
  brokerOverrides?: { url: string; caFile: string; serverName: string } | undefined;
  dir: string;
  protocolVersion?: 4 | 5;
  requireSignatures?: boolean;
  shutdownGraceSeconds?: number;
}): Readonly<AgentConfig> {
  const validated = validateConfig(
    {
      broker: {
        url: options.brokerUrl,
        protocolVersion: options.protocolVersion ?? 5,
        ...options.brokerOverrides,
      },
      credentialsFile: join(options.dir, 'credentials.json'),
      stateDir: join(options.dir, 'state'),
      security: { requireSignatures: options.requireSignatures ?? true },
      limits: { shutdownGraceSeconds: options.shutdownGraceSeconds ?? 5, killGraceSeconds: 1 },
      logLevel: 'debug',
      actions: TEST_ACTIONS,
    },
    'test config',
  );

  if (!validated.ok) {
    throw new Error(validated.errors.join('\n'));
  }

  return validated.config;
}

/** Starts the composed daemon in-process against a test broker, with a test runner. */
export async function startTestAgent(options: TestAgentOptions): Promise<TestAgent> {
  const dir = options.dir ?? (await tempDir('agent'));
  const agentId = options.agentId ?? 'agent-1';
  const config = testConfig({
    brokerUrl: options.broker.url,
    brokerOverrides: options.brokerOverrides,
    dir,
    ...(options.protocolVersion === undefined ? {} : { protocolVersion: options.protocolVersion }),
    ...(options.requireSignatures === undefined
      ? {}
      : { requireSignatures: options.requireSignatures }),
    ...(options.shutdownGraceSeconds === undefined
      ? {}
      : { shutdownGraceSeconds: options.shutdownGraceSeconds }),
  });

  if (options.keepCredentials !== true) {
    await writeCredentials(config.credentialsFile, {
      agentId,
      username: agentId,
      password: options.password ?? 'agent-password',
      groups: [...(options.groups ?? ['web'])],
      trustRoot: options.trustRoot,
      enrolledAt: new Date().toISOString(),
      ...(options.authUrl === undefined ? {} : { authUrl: options.authUrl }),
    });
  }

  const logs = new Collector<LogLine>();
  const logger = createLogger('debug', {
    write: (line: string) => logs.push(JSON.parse(line) as LogLine),
  });
  const runner = options.runner ?? new TestRunner();
  const agent = await startAgent({
    config,
    runner,
    catalogue: testCatalogue(config),
    logger,
    reconnectTimings: options.timings ?? FAST_RECONNECT,
  });

  return { agent, runner, config, dir, credentialsFile: config.credentialsFile, logs };
}

export interface Received {
  readonly topic: string;
  readonly retain: boolean;
  readonly message: Message;
}

/** A central app's view of the broker: sends commands, collects what agents publish. */
export class Observer {
  readonly received = new Collector<Received>();
  readonly #client: MqttClient;

  private constructor(client: MqttClient) {
    this.#client = client;
    client.on('message', (topic, payload, packet) => {
      const parsed = parseMessage(payload);

      if (parsed.ok) {
        this.received.push({ topic, retain: packet.retain, message: parsed.value });
      }
    });
  }

  /**
   * With `persistentId` the observer keeps a persistent session under that client id, so it
   * misses nothing published while a broker restart has it disconnected.
   */
  static async connect(
    broker: RunningMosquitto,
    options: { login?: { username: string; password: string }; persistentId?: string } = {},
  ) {
    const client = await mqtt.connectAsync(broker.url, {
      clientId: options.persistentId ?? `observer-${Math.random().toString(36).slice(2, 10)}`,
      reconnectPeriod: 200,
      protocolVersion: 5,
      ...(options.persistentId === undefined
        ? {}
        : { clean: false, properties: { sessionExpiryInterval: OBSERVER_SESSION_EXPIRY_SECONDS } }),
      ...(options.login ?? {}),
    });
    // Listen before subscribing: retained messages arrive right behind the SUBACK.
    const observer = new Observer(client);
    await client.subscribeAsync(
      [
        'beckon/v1/agents/+/results',
        'beckon/v1/agents/+/status',
        'beckon/v1/agents/+/progress',
        'beckon/v1/apps/+/replies',
      ],
      { qos: 1 },
    );

    return observer;
  }

  async send(message: Command | Cancel | object, agentId = 'agent-1'): Promise<void> {
    await this.#client.publishAsync(
      `beckon/v1/agents/${agentId}/commands`,
      JSON.stringify(message),
      {
        qos: 1,
      },
    );
  }

  async sendRaw(payload: string | Buffer, agentId = 'agent-1'): Promise<void> {
    await this.#client.publishAsync(`beckon/v1/agents/${agentId}/commands`, payload, { qos: 1 });
  }

  results(commandId: string | null, topicSuffix = '/results'): Result[] {
    return this.received
      .filter(
        (item) =>
          item.topic.endsWith(topicSuffix) &&
          item.message.kind === 'result' &&
          item.message.commandId === commandId,
      )
      .map((item) => item.message as Result);
  }

  async result(commandId: string | null, topicSuffix = '/results'): Promise<Result> {
    const found = await this.received.waitFor(
      (item) =>
        item.topic.endsWith(topicSuffix) &&
        item.message.kind === 'result' &&
        item.message.commandId === commandId,
      `result for ${String(commandId)} on *${topicSuffix}`,
    );

    return found.message as Result;
  }

  async status(state: 'online' | 'offline', after = 0): Promise<Status> {
    const found = await this.received.waitFor(
      (item) =>
        item.message.kind === 'status' &&
        item.message.state === state &&
        Date.parse(item.message.at) >= after,
      `${state} status`,
    );

    return found.message as Status;
  }

  /** A position in what was received so far, for `statusSince`. */
  mark(): number {
    return this.received.items.length;
  }

  /** A status that arrived after `mark`, whatever its `at` (a will carries its connect time). */
  async statusSince(state: 'online' | 'offline', mark: number): Promise<Status> {
    const found = await this.received.waitFor(
      (item) =>
        item.message.kind === 'status' &&
        item.message.state === state &&
        this.received.items.indexOf(item) >= mark,
      `${state} status`,
    );

    return found.message as Status;
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }
}
