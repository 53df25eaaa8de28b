import { EventEmitter } from 'node:events';
import {
  agentTopics,
  parseInbound,
  salvageCommandId,
  decodePayload,
  verifyMessage,
  type ActionDescriptor,
  type Cancel,
  type Command,
  type Result,
  type ResultError,
  type Status,
  type TrustRoot,
} from '@beckon/shared';
import mqtt, { type MqttClient } from 'mqtt';

/** What the test's handler decides for one verified command. */
export interface Answer {
  readonly outcome?: Result['outcome'];
  readonly exitCode?: number | null;
  readonly stdout?: string;
  readonly error?: ResultError;
}

export interface CommandContext {
  readonly command: Command;
  /** Publishes one progress chunk for this command. */
  readonly progress: (data: string) => Promise<void>;
}

export type Handler = (context: CommandContext) => Answer | Promise<Answer> | 'no-answer';

export interface StandInOptions {
  readonly url: string;
  readonly agentId: string;
  readonly trustRoot: TrustRoot;
  readonly groups?: readonly string[];
  readonly mqttVersion?: 4 | 5;
  readonly catalogue?: readonly ActionDescriptor[];
  /** A fixed client id and a persistent session, to keep its subscription across restarts. */
  readonly persistentSession?: boolean;
  readonly handler?: Handler;
  /** For an mqtts:// broker with a test CA. */
  readonly tls?: { readonly ca: Buffer; readonly servername: string };
}

interface StandInEvents {
  command: [command: Command];
  cancel: [cancel: Cancel];
  refused: [code: string];
}

const VERSION = '0.0.0-stand-in';

export const DEFAULT_CATALOGUE: readonly ActionDescriptor[] = [
  { name: 'ping', description: 'Answers at once.', args: {}, builtIn: true },
  {
    name: 'restart-service',
    description: 'Restarts one allowed unit.',
    args: {
      unit: { type: 'string', enum: ['nginx', 'postgresql'] },
      force: { type: 'boolean', required: false },
      retries: { type: 'integer', min: 0, max: 5, required: false },
    },
  },
];

/**
 * An agent written in the test with MQTT.js: it verifies every command with the shared
 * `verifyMessage` against the test's trust root and answers with real result and progress
 * messages, as the real agent does, so the client is exercised over a real broker.
 */
export class StandInAgent extends EventEmitter<StandInEvents> {
  readonly agentId: string;
  readonly received: Command[] = [];
  readonly cancels: Cancel[] = [];
  handler: Handler;
  readonly #options: StandInOptions;
  readonly #topics: ReturnType<typeof agentTopics>;
  readonly #startedAt = new Date().toISOString();
  #client: MqttClient | undefined;
  #progressSeq = new Map<string, number>();

  constructor(options: StandInOptions) {
    super();
    this.agentId = options.agentId;
    this.#options = options;
    this.#topics = agentTopics(options.agentId);
    this.handler = options.handler ?? (() => ({ stdout: 'ok\n' }));
  }

  status(state: Status['state']): Status {
    return {
      kind: 'status',
      agentId: this.agentId,
      state,
      version: VERSION,
      startedAt: this.#startedAt,
      at: new Date().toISOString(),
      catalogue: [...(this.#options.catalogue ?? DEFAULT_CATALOGUE)],
    };
  }

  async start(): Promise<void> {
    const persistent = this.#options.persistentSession === true;
    const client = await mqtt.connectAsync(this.#options.url, {
      protocolVersion: this.#options.mqttVersion ?? 4,
      clientId: persistent ? `stand-in-${this.agentId}` : `stand-in-${this.agentId}-${Date.now()}`,
      clean: !persistent,
      reconnectPeriod: 100,
      ...(this.#options.tls ?? {}),
      will: {
        topic: this.#topics.status,
        payload: Buffer.from(JSON.stringify(this.status('offline'))),
        qos: 1,
        retain: true,
      },
    });
    this.#client = client;
    client.on('connect', () => {
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    });
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    client.on('message', (_topic, payload) => {
      void this.#onMessage(payload);
    });
    await client.subscribeAsync(this.#topics.commands, { qos: 1 });
    await this.publishStatus('online');
  }

  /** Resolves once the stand-in has a broker session again (after a restart). */
  async reconnected(): Promise<void> {
    const client = this.#connected();

    if (!client.connected) {
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    }
  }

  async publishStatus(state: Status['state']): Promise<void> {
    await this.#connected().publishAsync(this.#topics.status, JSON.stringify(this.status(state)), {
      qos: 1,
      retain: true,
    });
  }

  /** Publishes raw bytes on one of this agent's topics (garbage tests). */
  async publishRaw(
    payload: string | Buffer,
    channel: 'results' | 'progress' | 'status' = 'results',
  ): Promise<void> {
    await this.#connected().publishAsync(this.#topics[channel], payload, { qos: 1 });
  }

  async publishResult(command: Command, answer: Answer): Promise<void> {
    await this.#connected().publishAsync(
      this.#topics.results,
      JSON.stringify(this.#result(command.id, command, answer)),
      { qos: 1 },
    );
  }

  /** Leaves as a crash would: the broker publishes the will. */
  crash(): void {
    this.#client?.stream.destroy();
    this.#client?.end(true);
    this.#client = undefined;
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.endAsync(true);
  }

  #connected(): MqttClient {
    if (this.#client === undefined) {
      throw new Error(`stand-in ${this.agentId} is not started`);
    }

    return this.#client;
  }

  #result(commandId: string | null, command: Command | undefined, answer: Answer): Result {
    const now = new Date().toISOString();
    const outcome = answer.outcome ?? 'succeeded';

    return {
      kind: 'result',
      commandId,
      agentId: this.agentId,
      ...(command === undefined ? {} : { action: command.action, issuer: command.issuer }),
      outcome,
      exitCode:
        answer.exitCode === undefined ? (outcome === 'succeeded' ? 0 : null) : answer.exitCode,
      output: { stdout: answer.stdout ?? '', stderr: '', truncated: false },
      timings: { receivedAt: now, finishedAt: now },
      ...(answer.error === undefined ? {} : { error: answer.error }),
    };
  }

  async #refuse(commandId: string | null, command: Command | undefined, error: ResultError) {
    this.emit('refused', error.code);
    await this.#connected().publishAsync(
      this.#topics.results,
      JSON.stringify(
        this.#result(commandId, command, {
          outcome: error.code === 'expired' ? 'expired' : 'rejected',
          exitCode: null,
          error,
        }),
      ),
      { qos: 1 },
    );
  }

  async #onMessage(payload: Buffer): Promise<void> {
    const parsed = parseInbound(payload);

    if (!parsed.ok) {
      const decoded = decodePayload(payload);
      await this.#refuse(decoded.ok ? salvageCommandId(decoded.value) : null, undefined, {
        code: 'malformed',
        message: 'does not match the contract',
      });
      return;
    }

    const message = parsed.value;
    const verified = await verifyMessage(message, {
      trustRoot: this.#options.trustRoot,
      agentId: this.agentId,
      agentGroups: this.#options.groups ?? [],
    });

    if (message.kind === 'cancel') {
      if (verified.ok) {
        this.cancels.push(message);
        this.emit('cancel', message);
      }

      return;
    }

    if (!verified.ok) {
      await this.#refuse(message.id, message, { code: verified.code, message: verified.message });
      return;
    }

    if (Date.parse(message.expiresAt) <= Date.now()) {
      await this.#refuse(message.id, message, { code: 'expired', message: 'arrived too late' });
      return;
    }

    this.received.push(message);
    this.emit('command', message);
    const answer = await this.handler({
      command: message,
      progress: (data) => this.#progress(message, data),
    });

    if (answer !== 'no-answer') {
      await this.publishResult(message, answer);
    }
  }

  async #progress(command: Command, data: string): Promise<void> {
    const seq = this.#progressSeq.get(command.id) ?? 0;
    this.#progressSeq.set(command.id, seq + 1);
    await this.#connected().publishAsync(
      this.#topics.progress,
      JSON.stringify({
        kind: 'progress',
        commandId: command.id,
        agentId: this.agentId,
        seq,
        stream: 'stdout',
        data,
        at: new Date().toISOString(),
      }),
      { qos: 0 },
    );
  }
}

export async function startStandIn(options: StandInOptions): Promise<StandInAgent> {
  const agent = new StandInAgent(options);
  await agent.start();

  return agent;
}
