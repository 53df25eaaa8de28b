import { randomUUID } from 'node:crypto';
import {
  agentTopics,
  generateSigningKeyPair,
  parseMessage,
  signMessage,
  type Command,
  type Result,
  type SigningKeyPair,
  type Unsigned,
} from '@beckon/shared';
import mqtt, { type MqttClient } from 'mqtt';
import { addApp } from '../../harness/app.js';
import type { RunningAuth } from '../../harness/auth.js';

const RESULT_TIMEOUT_MS = 30_000;
const COMMAND_TTL_MS = 60_000;

/**
 * An app speaking to an agent without the client library, so a test can publish exactly the
 * bytes it wants (unsigned, tampered, replayed, oversized) and read the raw results.
 */
export class RawApp {
  readonly appId: string;
  readonly keys: SigningKeyPair;
  readonly results: Result[] = [];
  readonly #mqtt: MqttClient;
  readonly #waiters = new Set<() => void>();
  readonly #authUrl: string;
  readonly #secret: string;

  private constructor(
    appId: string,
    secret: string,
    authUrl: string,
    keys: SigningKeyPair,
    client: MqttClient,
  ) {
    this.appId = appId;
    this.#secret = secret;
    this.#authUrl = authUrl;
    this.keys = keys;
    this.#mqtt = client;
    client.on('message', (_topic, payload) => {
      const parsed = parseMessage(payload);

      if (parsed.ok && parsed.value.kind === 'result') {
        this.results.push(parsed.value);

        for (const wake of this.#waiters) {
          wake();
        }
      }
    });
  }

  /** Connects as the app and subscribes to the results of `agentId`. */
  static async connect(options: {
    readonly brokerUrl: string;
    readonly authUrl: string;
    readonly appId: string;
    readonly secret: string;
    readonly agentId: string;
  }): Promise<RawApp> {
    const client = await mqtt.connectAsync(options.brokerUrl, {
      protocolVersion: 4,
      clientId: `${options.appId}-raw-${randomUUID().slice(0, 8)}`,
      username: options.appId,
      password: options.secret,
      reconnectPeriod: 0,
    });
    await client.subscribeAsync(agentTopics(options.agentId).results, { qos: 1 });
    const keys = await generateSigningKeyPair('EdDSA');

    return new RawApp(options.appId, options.secret, options.authUrl, keys, client);
  }

  /** Registers a new app granted every action on `agentId`, and connects as it. */
  static async grantedTo(
    auth: RunningAuth,
    brokerUrl: string,
    appId: string,
    agentId: string,
  ): Promise<RawApp> {
    const registered = await addApp(auth, appId, [{ agents: [agentId] }]);

    return RawApp.connect({
      brokerUrl,
      authUrl: auth.adminUrl,
      appId: registered.appId,
      secret: registered.secret,
      agentId,
    });
  }

  /** Its certified credential from the auth-service (`POST /v1/credentials`). */
  async credential(): Promise<string> {
    const basic = Buffer.from(`${this.appId}:${this.#secret}`).toString('base64');
    const response = await fetch(`${this.#authUrl}/v1/credentials`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: JSON.stringify({ publicJwk: this.keys.publicJwk }),
    });

    if (!response.ok) {
      throw new Error(`credentials answered ${response.status}: ${await response.text()}`);
    }

    return ((await response.json()) as { credential: string }).credential;
  }

  /** A command as the client would build it (unsigned), ready to be signed or spoiled. */
  command(agentId: string, action: string, args: Command['args'] = {}): Unsigned<Command> {
    const now = Date.now();

    return {
      kind: 'command',
      id: randomUUID(),
      agentId,
      action,
      args,
      issuer: this.appId,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + COMMAND_TTL_MS).toISOString(),
    };
  }

  async sign(command: Unsigned<Command>, credential?: string): Promise<Command> {
    return signMessage(command, {
      privateKey: this.keys.privateKey,
      alg: 'EdDSA',
      credential: credential ?? (await this.credential()),
    });
  }

  async publish(agentId: string, payload: string | Buffer): Promise<void> {
    await this.#mqtt.publishAsync(agentTopics(agentId).commands, payload, { qos: 1 });
  }

  /** The first result (since the start) that matches. */
  waitForResult(
    match: (result: Result) => boolean,
    timeoutMs = RESULT_TIMEOUT_MS,
  ): Promise<Result> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.results.find(match);

        if (found !== undefined) {
          clearTimeout(timer);
          this.#waiters.delete(check);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no matching result within ${timeoutMs} ms`));
      }, timeoutMs);

      this.#waiters.add(check);
      check();
    });
  }

  /** Publishes and waits for the result carrying the command's id. */
  async roundTrip(agentId: string, message: { id: string }, payload?: string): Promise<Result> {
    await this.publish(agentId, payload ?? JSON.stringify(message));

    return this.waitForResult((result) => result.commandId === message.id);
  }

  async close(): Promise<void> {
    await this.#mqtt.endAsync();
  }
}
