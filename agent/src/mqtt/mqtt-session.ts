import { readFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { WriteBatch } from '@beckon/shared';
import mqtt, {
  ErrorWithReasonCode,
  type IClientOptions,
  type IConnackPacket,
  type IPublishPacket,
  type MqttClient,
} from 'mqtt';
import type { BrokerConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { mqttDebugLog } from './mqtt-log.js';
import {
  DEFAULT_RECONNECT_TIMINGS,
  ReconnectSchedule,
  type Failure,
  type ReconnectTimings,
} from './reconnect-schedule.js';

/** Time for the TCP/TLS handshake and CONNACK before an attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 30_000;
/** MQTT 3.1.1 CONNACK return codes: bad user name or password, not authorised. */
const V4_AUTH_REFUSALS = new Set([4, 5]);
/** MQTT 5 CONNACK reason codes: bad user name or password (0x86), not authorised (0x87). */
const V5_AUTH_REFUSALS = new Set([0x86, 0x87]);

export type SessionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface BrokerLogin {
  readonly username: string;
  readonly password: string;
}

export interface WillMessage {
  readonly topic: string;
  readonly payload: string;
}

export interface SessionOptions {
  readonly broker: BrokerConfig;
  /** Stable across restarts, so the broker finds the persistent session again. */
  readonly clientId: string;
  readonly commandsTopic: string;
  /** Read before every attempt, so a rotated password is used without a restart. */
  readonly login: () => Promise<BrokerLogin>;
  /** The retained offline status the broker publishes if it loses us. */
  readonly will: () => WillMessage;
  /** Called once per accepted connection, after the commands subscription is in place. */
  readonly onConnect: (sessionPresent: boolean) => void;
  /**
   * Called for every message on the commands topic; the QoS 1 PUBACK goes out only when the
   * promise settles, so a command is acknowledged only once it is safely recorded.
   */
  readonly onMessage: (topic: string, payload: Buffer) => Promise<void>;
  readonly onStateChange: (state: SessionState) => void;
  readonly logger: Logger;
  readonly timings?: ReconnectTimings;
}

export interface PublishOptions {
  readonly qos: 0 | 1;
  readonly retain?: boolean;
}

function isAuthRefusal(error: Error, protocolVersion: 4 | 5): boolean {
  if (!(error instanceof ErrorWithReasonCode)) {
    return false;
  }

  return (protocolVersion === 5 ? V5_AUTH_REFUSALS : V4_AUTH_REFUSALS).has(error.code);
}

/**
 * The agent's one MQTT connection: a persistent session (clean start off) subscribed with
 * QoS 1 to its commands topic, kept alive forever.
 *
 * MQTT.js's own reconnect timer is off (reconnectPeriod 0) and this class drives reconnects:
 * MQTT.js retries at a fixed period with no jitter, and after a CONNACK refusal it either
 * stops or retries at that same period, while the agent needs a spread-out first retry, a
 * capped exponential backoff and a slow schedule for auth refusals. Reconnecting through
 * `client.reconnect()` with the client's own stores keeps unacknowledged QoS 1 results queued
 * across the gap.
 */
export class MqttSession {
  readonly #options: SessionOptions;
  readonly #logger: Logger;
  readonly #schedule: ReconnectSchedule;
  readonly #writes = new WriteBatch();
  #client: MqttClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastLogin: BrokerLogin | undefined;
  #authRefused = false;
  #closing = false;
  #state: SessionState = 'connecting';

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#schedule = new ReconnectSchedule(options.timings ?? DEFAULT_RECONNECT_TIMINGS);
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Reads credentials and starts the first attempt; resolves once it is under way. */
  async start(): Promise<void> {
    const { broker, clientId } = this.#options;
    const login = await this.#options.login();
    this.#lastLogin = login;
    const ca = broker.caFile === undefined ? undefined : await readFile(broker.caFile);
    const will = this.#options.will();
    const options: IClientOptions = {
      clientId,
      protocolVersion: broker.protocolVersion,
      clean: false,
      keepalive: broker.keepaliveSeconds,
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      username: login.username,
      password: login.password,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
      log: mqttDebugLog(this.#logger),
      ...(broker.protocolVersion === 5
        ? { properties: { sessionExpiryInterval: broker.sessionExpirySeconds } }
        : {}),
      ...(ca === undefined ? {} : { ca }),
      ...(broker.serverName === undefined ? {} : { servername: broker.serverName }),
      rejectUnauthorized: true,
    };

    const client = mqtt.connect(broker.url, options);
    this.#client = client;
    client.handleMessage = (packet, callback) => {
      this.#writes.hold(client.stream);
      this.#handle(packet).then(
        () => callback(),
        () => callback(),
      );
    };
    client.on('connect', (connack) => this.#onConnect(client, connack));
    client.on('error', (error) => this.#onError(error));
    client.on('close', () => this.#onClose());
    this.#setState('connecting');
  }

  /** Resolves when the broker acknowledged (QoS 1) or the packet was written (QoS 0). */
  async publish(topic: string, payload: string, options: PublishOptions): Promise<void> {
    const client = this.#client;

    if (client === undefined) {
      throw new Error('the MQTT session is not started');
    }

    await client.publishAsync(topic, payload, {
      qos: options.qos,
      retain: options.retain ?? false,
    });
  }

  /**
   * Disconnects cleanly (no will) and stops reconnecting; the broker keeps the session. Waits
   * up to `timeoutMs` for outstanding QoS 1 publishes, then closes the socket regardless.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;

    if (client !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });

      try {
        const ended = await Promise.race([client.endAsync(!client.connected), timeout]);

        if (ended === 'timeout') {
          this.#logger.warn({ timeoutMs }, 'broker did not acknowledge in time, closing');
          await client.endAsync(true);
        }
      } finally {
        clearTimeout(timer);
      }
    }

    this.#setState('closed');
  }

  async #handle(packet: IPublishPacket): Promise<void> {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);

    try {
      await this.#options.onMessage(packet.topic, payload);
    } catch (error) {
      this.#logger.error({ err: error, topic: packet.topic }, 'message handler failed');
    }
  }

  #isClosing(): boolean {
    return this.#closing;
  }

  #setState(state: SessionState): void {
    if (state !== this.#state) {
      this.#state = state;
      this.#options.onStateChange(state);
    }
  }

  #onConnect(client: MqttClient, connack: IConnackPacket): void {
    // Nagle plus delayed ACKs costs 44 ms per exchange (PERFORMANCE.md); once per socket.
    if (client.stream instanceof Socket) {
      client.stream.setNoDelay(true);
    }

    this.#authRefused = false;
    this.#schedule.reset();
    this.#logger.info(
      { clientId: this.#options.clientId, sessionPresent: connack.sessionPresent },
      'broker accepted the connection',
    );

    // Subscribing again when the session is present is harmless and repairs a session the
    // broker kept without our subscription.
    client.subscribe(this.#options.commandsTopic, { qos: 1 }, (error, granted) => {
      if (error !== null) {
        this.#logger.error({ err: error }, 'subscribing to the commands topic failed');
        return;
      }

      const refused = (granted ?? []).some((grant) => grant.qos > 1);

      if (refused) {
        // Connected but deaf is worse than disconnected: drop the connection and retry on the
        // slow schedule, as for refused credentials (both are the broker's ACL saying no).
        this.#logger.error(
          { topic: this.#options.commandsTopic },
          'broker refused the commands subscription, retrying slowly',
        );
        this.#authRefused = true;
        client.stream.destroy();
        return;
      }

      this.#setState('connected');
      this.#options.onConnect(connack.sessionPresent);
    });
  }

  #onError(error: Error): void {
    const { broker } = this.#options;

    if (isAuthRefusal(error, broker.protocolVersion)) {
      this.#authRefused = true;
      this.#logger.error(
        { err: error, username: this.#lastLogin?.username, broker: broker.url },
        'broker refused the credentials; check the credentials file, retrying slowly',
      );
      return;
    }

    this.#logger.warn({ err: error, broker: broker.url }, 'connection error');
  }

  #onClose(): void {
    if (this.#closing || this.#timer !== undefined) {
      return;
    }

    const failure: Failure = this.#authRefused ? 'auth' : 'lost';
    const delayMs = this.#schedule.next(failure);
    this.#setState('reconnecting');
    this.#logger.info({ delayMs, failure }, 'reconnect scheduled');
    this.#timer = setTimeout(() => void this.#reconnect(), delayMs);
  }

  async #reconnect(): Promise<void> {
    this.#timer = undefined;
    const client = this.#client;

    if (this.#closing || client === undefined) {
      return;
    }

    try {
      const login = await this.#options.login();

      if (this.#lastLogin !== undefined && login.password !== this.#lastLogin.password) {
        this.#logger.info({ username: login.username }, 'using rotated credentials');
      }

      this.#lastLogin = login;
      client.options.username = login.username;
      client.options.password = login.password;
    } catch (error) {
      this.#logger.error({ err: error }, 'cannot re-read credentials, using the last good ones');
    }

    // stop() may have run while the file was read.
    if (this.#isClosing()) {
      return;
    }

    const will = this.#options.will();
    client.options.will = {
      topic: will.topic,
      payload: Buffer.from(will.payload),
      qos: 1,
      retain: true,
    };
    this.#setState('connecting');
    client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
  }
}
