import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { WriteBatch } from '@beckon/shared';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Backoff, type ReconnectSchedule } from './backoff.js';
import { BeckonError } from './errors.js';
import { mqttLog } from './mqtt-log.js';

/** MQTT 5 keeps the session this long across a reconnect, so no result is lost in the gap. */
const SESSION_EXPIRY_SECONDS = 300;
const KEEPALIVE_SECONDS = 30;
const CONNECT_TIMEOUT_MS = 10_000;

// CONNACK return codes meaning "your credentials were refused": 3.1.1 bad user/password (4) and
// not authorised (5); MQTT 5 bad user name or password (0x86) and not authorized (0x87).
const NOT_AUTHORISED_CODES = new Set([4, 5, 0x86, 0x87]);
/** SUBACK / PUBACK reason code of a refusal; MQTT 3.1.1 SUBACK failure is 0x80. */
const SUBACK_FAILURE = 0x80;

export type MqttVersion = 4 | 5;

export interface BrokerLogin {
  readonly username: string;
  readonly password: string;
}

export interface MqttSessionOptions {
  readonly url: string;
  readonly clientId: string;
  readonly mqttVersion: MqttVersion;
  /** Read before every connection attempt, so a renewed broker token is used. */
  readonly login: () => BrokerLogin;
  readonly ca?: Buffer;
  readonly servername?: string;
  readonly schedule: ReconnectSchedule;
  readonly logger: Logger;
}

export type SessionState = 'connecting' | 'ready' | 'offline' | 'closed';

interface SessionEvents {
  ready: [];
  closed: [];
  offline: [];
  refused: [error: BeckonError];
  message: [topic: string, payload: Buffer];
}

/**
 * One broker session that never gives up: it reconnects with backoff and jitter, sets no-delay
 * on every new socket, and restores its subscriptions before it reports itself ready.
 */
export class MqttSession extends EventEmitter<SessionEvents> {
  readonly #options: MqttSessionOptions;
  readonly #logger: Logger;
  readonly #client: MqttClient;
  readonly #backoff: Backoff;
  readonly #filters = new Set<string>();
  readonly #writes = new WriteBatch();
  #state: SessionState = 'connecting';
  #reconnectTimer: NodeJS.Timeout | undefined;
  #lastRefused = false;
  #reconnectNow = false;
  #lastError: Error | undefined;

  constructor(options: MqttSessionOptions) {
    super();
    this.#options = options;
    this.#logger = options.logger;
    this.#backoff = new Backoff(options.schedule);

    const login = options.login();
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      protocolVersion: options.mqttVersion,
      username: login.username,
      password: login.password,
      keepalive: KEEPALIVE_SECONDS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Reconnection is ours (backoff, jitter, login renewal), and so is resubscription.
      reconnectPeriod: 0,
      resubscribe: false,
      manualConnect: true,
      log: mqttLog(this.#logger, () => this.#secrets()),
      ...(options.mqttVersion === 5
        ? { clean: false, properties: { sessionExpiryInterval: SESSION_EXPIRY_SECONDS } }
        : { clean: true }),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.servername === undefined ? {} : { servername: options.servername }),
    };

    this.#client = mqtt.connect(options.url, clientOptions);
    this.#client.on('connect', (connack) => {
      this.#onConnect(connack.sessionPresent);
    });
    this.#client.on('close', () => {
      this.#onClose();
    });
    this.#client.on('error', (error) => {
      this.#onError(error);
    });
    this.#client.on('message', (topic, payload) => {
      // The PUBACK and any command sent in reaction leave with the batch (write-batch.ts).
      this.#writes.hold(this.#client.stream);
      this.emit('message', topic, payload);
    });
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Why the last connection attempt failed, for an error that says more than "timed out". */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  start(): void {
    this.#logger.debug({ url: redactUrl(this.#options.url) }, 'broker connecting');
    this.#client.connect();
  }

  /** Subscribes now if connected, and again after every reconnect. */
  async subscribe(filter: string): Promise<void> {
    if (this.#filters.has(filter) || this.#state !== 'ready') {
      // Either in place already, or the next session restores it before it reports ready.
      this.#filters.add(filter);
      await this.whenReady();
      return;
    }

    this.#filters.add(filter);

    try {
      await this.#subscribeOne(filter);
    } catch (error) {
      if (error instanceof BeckonError) {
        throw error;
      }

      // The connection dropped under us; the next session subscribes it.
      await this.whenReady();
    }
  }

  /** Resolves once a session is up with every subscription in place. */
  whenReady(signal?: AbortSignal): Promise<void> {
    if (this.#state === 'ready') {
      return Promise.resolve();
    }

    if (this.#state === 'closed') {
      return Promise.reject(new BeckonError('not_connected', 'the client is closed'));
    }

    return new Promise((resolve, reject) => {
      const cleanUp = (): void => {
        this.off('ready', onReady);
        this.off('closed', onClosed);
        signal?.removeEventListener('abort', onAbort);
      };
      const onReady = (): void => {
        cleanUp();
        resolve();
      };
      const onClosed = (): void => {
        cleanUp();
        reject(new BeckonError('not_connected', 'the client was closed'));
      };
      const onAbort = (): void => {
        cleanUp();
        reject(signal?.reason as Error);
      };
      this.on('ready', onReady);
      this.on('closed', onClosed);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Publishes once the session is ready. QoS 1 messages stay in MQTT.js's store across
   * reconnects and are sent again; a broker refusal (MQTT 5) rejects.
   */
  async publish(topic: string, payload: string, qos: 0 | 1, signal?: AbortSignal): Promise<void> {
    await this.whenReady(signal);

    await new Promise<void>((resolve, reject) => {
      this.#client.publish(topic, payload, { qos }, (maybeError, packet) => {
        // MQTT.js passes null as well as undefined for "no error".
        const error = (maybeError as Error | null | undefined) ?? undefined;
        const reasonCode = packet?.cmd === 'puback' ? packet.reasonCode : undefined;

        if (reasonCode !== undefined && reasonCode >= SUBACK_FAILURE) {
          reject(
            new BeckonError('not_authorised', `the broker refused a publish to ${topic}`, {
              cause: error,
            }),
          );
          return;
        }

        if (error !== undefined && isRefusal(error)) {
          reject(new BeckonError('not_authorised', `the broker refused a publish to ${topic}`));
          return;
        }

        if (error !== undefined) {
          // Still in the outgoing store: it is sent again on the next session.
          this.#logger.debug({ topic, err: error }, 'publish interrupted');
        }

        resolve();
      });
    });
  }

  /** Drops the current connection and reconnects at once (a renewed login must be used). */
  reconnectNow(): void {
    if (this.#state !== 'ready') {
      return;
    }

    this.#reconnectNow = true;
    this.#client.stream.destroy();
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') {
      return;
    }

    this.#state = 'closed';
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.emit('closed');
    // An MQTT 5 session would otherwise outlive the process by SESSION_EXPIRY_SECONDS.
    const disconnect =
      this.#options.mqttVersion === 5 ? { properties: { sessionExpiryInterval: 0 } } : {};
    await new Promise<void>((resolve) => {
      this.#client.end(!this.#client.connected, disconnect, () => resolve());
    });
    this.#logger.debug({}, 'broker session closed');
  }

  #secrets(): readonly string[] {
    const login = this.#options.login();

    return [login.username, login.password];
  }

  #onConnect(sessionPresent: boolean | undefined): void {
    const socket = this.#client.stream as Partial<Socket>;
    // Nagle plus delayed ACKs cost 88 ms per round trip (PERFORMANCE.md); every socket is new.
    socket.setNoDelay?.(true);
    this.#backoff.reset();
    this.#lastRefused = false;
    this.#logger.info({ sessionPresent: sessionPresent ?? false }, 'broker connected');

    void this.#restoreSubscriptions();
  }

  async #restoreSubscriptions(): Promise<void> {
    try {
      await Promise.all([...this.#filters].map((filter) => this.#subscribeOne(filter)));
    } catch (error) {
      this.#logger.warn({ err: error }, 'resubscribe failed');
    }

    if (this.#state === 'closed' || !this.#client.connected) {
      return;
    }

    this.#state = 'ready';
    this.emit('ready');
  }

  async #subscribeOne(filter: string): Promise<void> {
    const granted = await this.#client.subscribeAsync(filter, { qos: 1 });

    if (granted.some((grant) => grant.qos >= SUBACK_FAILURE)) {
      throw new BeckonError('not_authorised', `the broker refused a subscription to ${filter}`);
    }
  }

  #onClose(): void {
    if (this.#state === 'closed') {
      return;
    }

    const wasReady = this.#state === 'ready';
    this.#state = wasReady ? 'offline' : this.#state;

    if (wasReady) {
      this.#logger.warn({}, 'broker connection lost');
      this.emit('offline');
    }

    clearTimeout(this.#reconnectTimer);
    const delayMs = this.#reconnectNow ? 0 : this.#backoff.next(this.#lastRefused);
    this.#reconnectNow = false;
    this.#logger.debug({ delayMs }, 'broker reconnect scheduled');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnect();
    }, delayMs);
  }

  #reconnect(): void {
    this.#reconnectTimer = undefined;

    if (this.#state === 'closed') {
      return;
    }

    const login = this.#options.login();
    this.#client.options.username = login.username;
    this.#client.options.password = login.password;
    // Keep the stores: QoS 1 commands published before the drop are sent again.
    this.#client.reconnect({
      incomingStore: this.#client.incomingStore,
      outgoingStore: this.#client.outgoingStore,
    });
  }

  #onError(error: Error): void {
    this.#lastError = error;

    if (isRefusal(error)) {
      this.#lastRefused = true;
      const refused = new BeckonError('not_authorised', 'the broker refused the app credentials', {
        cause: error,
      });
      this.#logger.warn({ err: error }, 'broker refused login');
      this.emit('refused', refused);
      return;
    }

    this.#logger.debug({ err: error }, 'broker connection error');
  }
}

function isRefusal(error: Error): boolean {
  const code: unknown = (error as { code?: unknown }).code;

  return typeof code === 'number' && NOT_AUTHORISED_CODES.has(code);
}

/** A broker URL may carry user:password; never log them. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';

    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
