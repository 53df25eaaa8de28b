import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import {
  ActionName,
  AgentId,
  allAgentsFilter,
  Args,
  agentTopic,
  CommandId,
  describeIssues,
  parseProgress,
  parseResult,
  parseStatus,
  parseTopic,
  safeParse,
  signMessage,
  type Cancel,
  type Command,
  type Progress,
  type Result,
  type Unsigned,
} from '@beckon/shared';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { AsyncQueue } from './async-queue.js';
import { fetchBrokerToken, fetchCredential, fetchGroupAgents } from './auth-api.js';
import type { ActionOf, ArgsOf, Catalogue, UntypedCatalogue } from './catalogue-types.js';
import { resolveConnectOptions, type ResolvedConnectOptions } from './connect-options.js';
import { BeckonError, errorForResult, invalidArgument } from './errors.js';
import { fanOut, type FanOutOptions, type FanOutReport } from './fan-out.js';
import { MqttSession } from './mqtt-session.js';
import { presenceFromStatus, type AgentPresence } from './presence.js';
import { loadAppKey, readAppKeyFile, type AppKey } from './private-key.js';
import { Renewing } from './renewing.js';

/** How long send() waits for a result unless told otherwise. */
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;
/** A cancel is worth acting on only briefly. */
const CANCEL_TTL_MS = 30_000;
/** How long status() waits for an agent's retained status after subscribing. */
const STATUS_WAIT_MS = 1_000;
/** listAgents() stops waiting for retained statuses after this long without a new one. */
const LIST_QUIET_MS = 500;
const LIST_MAX_WAIT_MS = 10_000;
/** Command ids given up on that are remembered, to log a late result as such. */
const MAX_ABANDONED_IDS = 1_000;
const MAX_DURATION_MS = 24 * 60 * 60 * 1_000;

const RESULTS_FILTER = allAgentsFilter('results');
const PROGRESS_FILTER = allAgentsFilter('progress');
const STATUS_FILTER = allAgentsFilter('status');

const SendOptionsSchema = z.strictObject({
  /** How long to wait for the result, in milliseconds. */
  timeout: z.number().int().positive().max(MAX_DURATION_MS).optional(),
  /** How long the command stays valid for the agent; defaults to `timeout`. */
  ttl: z.number().int().positive().max(MAX_DURATION_MS).optional(),
  signal: z.instanceof(AbortSignal).optional(),
  /** Ask the agent to stream output (implied by onProgress). */
  progress: z.boolean().optional(),
  onProgress: z
    .custom<(chunk: Progress) => void>((value) => typeof value === 'function')
    .optional(),
  /** Also send a signed cancel when the signal aborts. */
  cancelOnAbort: z.boolean().optional(),
  correlationData: z.string().max(256).optional(),
});

export type SendOptions = z.input<typeof SendOptionsSchema>;

/** A result whose outcome is `succeeded`; every other outcome rejects with a BeckonError. */
export type SucceededResult = Result & { readonly outcome: 'succeeded' };

/** A command on its way: its id at once, its result later, its output as it streams. */
export interface CommandHandle {
  readonly id: string;
  readonly agentId: string;
  readonly action: string;
  readonly result: Promise<SucceededResult>;
  /** Output chunks in order, when progress was requested; ends when the result arrives. */
  readonly progress: AsyncIterable<Progress>;
  /** Sends a signed cancel for this command. */
  cancel(): Promise<void>;
}

export interface SendManyOptions extends FanOutOptions {
  readonly timeout?: number;
  readonly ttl?: number;
}

export type FanOutTarget = readonly string[] | { readonly group: string };

export interface WatchOptions<T> {
  readonly signal?: AbortSignal;
  readonly onChange?: (item: T) => void;
}

/** A live feed; iterate it or pass onChange, and close() it (or abort its signal) when done. */
export interface Watch<T> extends AsyncIterable<T> {
  close(): void;
}

interface Pending {
  readonly id: string;
  readonly agentId: string;
  readonly action: string;
  readonly progress: AsyncQueue<Progress>;
  readonly onProgress: ((chunk: Progress) => void) | undefined;
  settle(outcome: { result: Result } | { error: BeckonError }): void;
}

interface ClientEvents {
  connected: [];
  disconnected: [];
}

interface Signer {
  readonly key: AppKey;
  readonly credential: Renewing<string>;
}

function checked<T>(schema: z.ZodType<T>, value: unknown, argument: string): T {
  const parsed = safeParse(schema, value);

  if (!parsed.ok) {
    throw invalidArgument(argument, `is invalid: ${describeIssues(parsed.issues)}`);
  }

  return parsed.value;
}

/**
 * A connected Beckon app: signs commands with the app's key and certified credential, sends
 * them over one broker session that survives reconnects, and correlates results by command id.
 * Obtain one with connect().
 */
export class BeckonClient<
  C extends Catalogue = UntypedCatalogue,
> extends EventEmitter<ClientEvents> {
  readonly appId: string;
  readonly #options: ResolvedConnectOptions;
  readonly #logger: Logger;
  readonly #session: MqttSession;
  readonly #signer: Signer | undefined;
  readonly #brokerToken: Renewing<string> | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #abandoned = new Set<string>();
  readonly #presence = new Map<string, AgentPresence>();
  readonly #presenceListeners = new Set<(presence: AgentPresence) => void>();
  readonly #resultListeners = new Set<(result: Result) => void>();
  #closed = false;

  /** @internal Use connect(). */
  constructor(
    options: ResolvedConnectOptions,
    logger: Logger,
    session: MqttSession,
    signer: Signer | undefined,
    brokerToken: Renewing<string> | undefined,
  ) {
    super();
    this.appId = options.appId;
    this.#options = options;
    this.#logger = logger;
    this.#session = session;
    this.#signer = signer;
    this.#brokerToken = brokerToken;
    session.on('message', (topic, payload) => {
      this.#onMessage(topic, payload);
    });
    session.on('ready', () => this.emit('connected'));
    session.on('offline', () => this.emit('disconnected'));
  }

  /** True while a broker session is up with its subscriptions in place. */
  get connected(): boolean {
    return this.#session.state === 'ready';
  }

  /** This client, with `args` checked against a catalogue type at compile time. */
  typed<T extends Catalogue>(): BeckonClient<T> {
    return this as unknown as BeckonClient<T>;
  }

  /** Sends a command and resolves with its succeeded result; rejects with a BeckonError. */
  async send<A extends ActionOf<C>>(
    agentId: string,
    action: A,
    args: ArgsOf<C, A>,
    options: SendOptions = {},
  ): Promise<SucceededResult> {
    return this.start(agentId, action, args, options).result;
  }

  /**
   * Sends a command and returns its handle at once. Throws a BeckonError (invalid_arguments)
   * synchronously for bad arguments; everything later arrives through `handle.result`.
   */
  start<A extends ActionOf<C>>(
    agentId: string,
    action: A,
    args: ArgsOf<C, A>,
    options: SendOptions = {},
  ): CommandHandle {
    const target = checked(AgentId, agentId, 'agentId');
    const name = checked(ActionName, action, 'action');
    const values = checked(Args, args, 'args');
    const settings = checked(SendOptionsSchema, options, 'options');
    this.#assertOpen();

    const id = randomUUID();
    const timeoutMs = settings.timeout ?? DEFAULT_SEND_TIMEOUT_MS;
    const wantsProgress = settings.progress === true || settings.onProgress !== undefined;
    const progress = new AsyncQueue<Progress>();
    const log = this.#logger.child({ commandId: id, agentId: target, action: name });

    let settle: Pending['settle'] = () => undefined;
    const result = new Promise<SucceededResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        settle({
          error: new BeckonError('timed_out', `no result from agent ${target} in ${timeoutMs} ms`, {
            commandId: id,
            agentId: target,
          }),
        });
      }, timeoutMs);
      const onAbort = (): void => {
        settle({
          error: new BeckonError('aborted', 'the caller stopped waiting for the result', {
            commandId: id,
            agentId: target,
            cause: settings.signal?.reason,
          }),
        });

        if (settings.cancelOnAbort === true) {
          this.cancel(id, { agentId: target }).catch((error: unknown) => {
            log.warn({ err: error }, 'cancel after abort failed');
          });
        }
      };

      settle = (outcome) => {
        if (!this.#pending.has(id)) {
          return;
        }

        this.#pending.delete(id);
        clearTimeout(timer);
        settings.signal?.removeEventListener('abort', onAbort);
        progress.end();

        if ('error' in outcome) {
          if (outcome.error.result === undefined) {
            this.#rememberAbandoned(id);
          }

          log.debug({ code: outcome.error.code }, 'command ended without success');
          reject(outcome.error);
          return;
        }

        if (outcome.result.outcome === 'succeeded') {
          log.debug({}, 'command succeeded');
          resolve(outcome.result as SucceededResult);
          return;
        }

        const error = errorForResult(outcome.result);
        log.debug(
          { code: error.code, agentCode: error.agentCode },
          'command ended without success',
        );
        reject(error);
      };

      this.#pending.set(id, {
        id,
        agentId: target,
        action: name,
        progress,
        onProgress: settings.onProgress,
        settle: (outcome) => {
          settle(outcome);
        },
      });

      if (settings.signal?.aborted === true) {
        onAbort();
        return;
      }

      settings.signal?.addEventListener('abort', onAbort, { once: true });
    });
    // A caller who only reads `progress` must not get an unhandled rejection.
    result.catch(() => undefined);

    const now = Date.now();
    const command: Unsigned<Command> = {
      kind: 'command',
      id,
      agentId: target,
      action: name,
      args: values,
      issuer: this.appId,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + (settings.ttl ?? timeoutMs)).toISOString(),
      ...(wantsProgress ? { progress: true } : {}),
      ...(settings.correlationData === undefined
        ? {}
        : { correlationData: settings.correlationData }),
    };

    this.#dispatch(command, wantsProgress, settings.signal).catch((error: unknown) => {
      const pending = this.#pending.get(id);
      pending?.settle({
        error:
          error instanceof BeckonError
            ? error
            : new BeckonError('not_connected', 'the command could not be published', {
                commandId: id,
                agentId: target,
                cause: error,
              }),
      });
    });

    return {
      id,
      agentId: target,
      action: name,
      result,
      progress,
      cancel: () => this.cancel(id, { agentId: target }),
    };
  }

  /**
   * Sends one action to many agents, or to every agent of a group the app is granted, with a
   * concurrency limit and an error threshold; reports every agent's outcome.
   */
  async sendMany<A extends ActionOf<C>>(
    target: FanOutTarget,
    action: A,
    args: ArgsOf<C, A>,
    options: SendManyOptions = {},
  ): Promise<FanOutReport> {
    const agents = await this.#resolveTargets(target);
    checked(ActionName, action, 'action');
    checked(Args, args, 'args');
    const { timeout, ttl } = checked(
      SendOptionsSchema.pick({ timeout: true, ttl: true }),
      { timeout: options.timeout, ttl: options.ttl },
      'options',
    );

    return fanOut(
      agents,
      (agentId, signal) =>
        this.send(agentId, action, args, {
          signal,
          ...(timeout === undefined ? {} : { timeout }),
          ...(ttl === undefined ? {} : { ttl }),
        }),
      options,
    );
  }

  /** The agents of a group that the auth-service says this app is granted now. */
  async groupMembers(group: string): Promise<string[]> {
    return this.#resolveTargets({ group });
  }

  /** Sends a signed cancel for a command; `agentId` is needed once the client forgot it. */
  async cancel(commandId: string, options: { readonly agentId?: string } = {}): Promise<void> {
    const id = checked(CommandId, commandId, 'commandId');
    const agentId = options.agentId ?? this.#pending.get(id)?.agentId;

    if (agentId === undefined) {
      throw invalidArgument('options.agentId', `is required: command ${id} is not pending`);
    }

    const target = checked(AgentId, agentId, 'options.agentId');
    this.#assertOpen();

    const now = Date.now();
    const cancel: Unsigned<Cancel> = {
      kind: 'cancel',
      id: randomUUID(),
      agentId: target,
      commandId: id,
      issuer: this.appId,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + CANCEL_TTL_MS).toISOString(),
    };
    const signed = await this.#sign(cancel);
    await this.#session.publish(agentTopic(target, 'commands'), JSON.stringify(signed), 1);
    this.#logger.info({ commandId: id, agentId: target }, 'cancel sent');
  }

  /** An agent's presence from its retained status; undefined when it has published none. */
  async status(agentId: string): Promise<AgentPresence | undefined> {
    const target = checked(AgentId, agentId, 'agentId');
    this.#assertOpen();
    await this.#session.subscribe(STATUS_FILTER);

    const known = this.#presence.get(target);

    if (known !== undefined) {
      return known;
    }

    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#presenceListeners.delete(listener);
        resolve(this.#presence.get(target));
      }, STATUS_WAIT_MS);
      const listener = (presence: AgentPresence): void => {
        if (presence.agentId === target) {
          clearTimeout(timer);
          this.#presenceListeners.delete(listener);
          resolve(presence);
        }
      };
      this.#presenceListeners.add(listener);
    });
  }

  /**
   * Every agent with a retained status that the app may read. Retained messages follow the
   * subscription's SUBACK with no end marker, so this waits until they stop arriving.
   */
  async listAgents(): Promise<AgentPresence[]> {
    this.#assertOpen();
    await this.#session.subscribe(STATUS_FILTER);

    await new Promise<void>((resolve) => {
      let quiet: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(quiet);
        clearTimeout(cap);
        this.#presenceListeners.delete(listener);
        resolve();
      };
      const listener = (): void => {
        clearTimeout(quiet);
        quiet = setTimeout(finish, LIST_QUIET_MS);
      };
      const cap = setTimeout(finish, LIST_MAX_WAIT_MS);
      this.#presenceListeners.add(listener);
      listener();
    });

    return [...this.#presence.values()].sort((a, b) => a.agentId.localeCompare(b.agentId));
  }

  /** Presence changes as they happen, starting with what is already known. */
  watchStatus(options: WatchOptions<AgentPresence> = {}): Watch<AgentPresence> {
    this.#assertOpen();
    const watch = this.#watch(this.#presenceListeners, options, 'watchStatus');
    void this.#session.subscribe(STATUS_FILTER).catch((error: unknown) => {
      watch.fail(error);
    });

    for (const presence of this.#presence.values()) {
      watch.deliver(presence);
    }

    return watch.handle;
  }

  /** Every result the app may read, from any agent and any sender, as it arrives. */
  watchResults(options: WatchOptions<Result> = {}): Watch<Result> {
    this.#assertOpen();

    return this.#watch(this.#resultListeners, options, 'watchResults').handle;
  }

  /** Rejects pending commands with not_connected, stops renewals and leaves the broker. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }

    this.#closed = true;

    for (const pending of [...this.#pending.values()]) {
      pending.settle({
        error: new BeckonError('not_connected', 'the client was closed', {
          commandId: pending.id,
          agentId: pending.agentId,
        }),
      });
    }

    this.#presenceListeners.clear();
    this.#resultListeners.clear();
    this.#signer?.credential.stop();
    this.#brokerToken?.stop();
    await this.#session.close();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new BeckonError('not_connected', 'the client is closed');
    }
  }

  async #dispatch(
    command: Unsigned<Command>,
    wantsProgress: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (wantsProgress) {
      await this.#session.subscribe(PROGRESS_FILTER);
    }

    const signed = await this.#sign(command);

    if (!this.#pending.has(command.id)) {
      return;
    }

    await this.#session.publish(
      agentTopic(command.agentId, 'commands'),
      JSON.stringify(signed),
      1,
      signal,
    );
    this.#logger.debug(
      { commandId: command.id, agentId: command.agentId, action: command.action },
      'command sent',
    );
  }

  async #sign<T extends Command | Cancel>(message: Unsigned<T>): Promise<T | Unsigned<T>> {
    if (this.#signer === undefined) {
      return message;
    }

    return signMessage<T>(message, {
      privateKey: this.#signer.key.privateKey,
      alg: this.#signer.key.alg,
      credential: this.#signer.credential.current(),
    });
  }

  async #resolveTargets(target: FanOutTarget): Promise<string[]> {
    if (Array.isArray(target)) {
      return checked(z.array(AgentId).max(100_000), target, 'agents');
    }

    const group = checked(
      z.strictObject({ group: AgentId }),
      target,
      'agents (a list of agent ids or { group })',
    ).group;
    const { authUrl } = this.#options;

    if (authUrl === undefined) {
      throw invalidArgument('agents.group', 'needs the authUrl connect option to resolve groups');
    }

    return [
      ...(await fetchGroupAgents(
        { url: authUrl, appId: this.appId, secret: this.#options.secret, ...(await this.#ca()) },
        group,
      )),
    ];
  }

  async #ca(): Promise<{ ca?: Buffer }> {
    return loadCa(this.#options);
  }

  #rememberAbandoned(id: string): void {
    this.#abandoned.add(id);

    if (this.#abandoned.size > MAX_ABANDONED_IDS) {
      const [oldest] = this.#abandoned;

      if (oldest !== undefined) {
        this.#abandoned.delete(oldest);
      }
    }
  }

  #watch<T>(
    listeners: Set<(item: T) => void>,
    options: WatchOptions<T>,
    name: string,
  ): { handle: Watch<T>; deliver: (item: T) => void; fail: (error: unknown) => void } {
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw invalidArgument('options.signal', 'must be an AbortSignal');
    }

    if (options.onChange !== undefined && typeof options.onChange !== 'function') {
      throw invalidArgument('options.onChange', 'must be a function');
    }

    const close = (): void => {
      listeners.delete(deliver);
      options.signal?.removeEventListener('abort', close);
      queue.end();
    };
    const queue = new AsyncQueue<T>(close);
    const deliver = (item: T): void => {
      if (options.onChange === undefined) {
        queue.push(item);
        return;
      }

      try {
        options.onChange(item);
      } catch (error) {
        this.#logger.warn({ err: error }, `${name} callback threw`);
      }
    };

    listeners.add(deliver);
    options.signal?.addEventListener('abort', close, { once: true });

    if (options.signal?.aborted === true) {
      close();
    }

    return {
      handle: { [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](), close },
      deliver,
      fail: (error) => {
        listeners.delete(deliver);
        queue.end(error instanceof Error ? error : new Error('the watch failed'));
      },
    };
  }

  #onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);

    if (parsed?.scope !== 'agent') {
      this.#logger.debug({ topic }, 'message on unknown topic ignored');
      return;
    }

    switch (parsed.channel) {
      case 'results':
        this.#onResult(parsed.agentId, payload);
        return;
      case 'progress':
        this.#onProgress(parsed.agentId, payload);
        return;
      case 'status':
        this.#onStatus(parsed.agentId, payload);
        return;
      case 'commands':
        this.#logger.debug({ topic }, 'command topic message ignored');
        return;
    }
  }

  #onResult(topicAgentId: string, payload: Buffer): void {
    const parsed = parseResult(payload);

    if (!parsed.ok) {
      this.#logger.warn(
        { agentId: topicAgentId, issues: describeIssues(parsed.issues) },
        'malformed result ignored',
      );
      return;
    }

    const result = parsed.value;
    const log = this.#logger.child({ agentId: topicAgentId, commandId: result.commandId });

    // The broker lets only agent X write X's results topic; a body naming another agent lies.
    if (result.agentId !== topicAgentId) {
      log.warn({ claimedAgentId: result.agentId }, 'result from the wrong topic ignored');
      return;
    }

    for (const listener of this.#resultListeners) {
      listener(result);
    }

    const pending = result.commandId === null ? undefined : this.#pending.get(result.commandId);

    if (pending === undefined || pending.agentId !== result.agentId) {
      if (result.commandId !== null && this.#abandoned.has(result.commandId)) {
        log.debug({ outcome: result.outcome }, 'late result dropped');
      }

      return;
    }

    // QoS 1 may deliver a command twice; the agent refuses the copy as a replay, but the
    // first delivery's result is the one that counts. Our ids are fresh UUIDs.
    if (result.error?.code === 'replayed') {
      log.debug({}, 'replay refusal of a duplicate delivery ignored');
      return;
    }

    pending.settle({ result });
  }

  #onProgress(topicAgentId: string, payload: Buffer): void {
    const parsed = parseProgress(payload);

    if (!parsed.ok || parsed.value.agentId !== topicAgentId) {
      this.#logger.warn({ agentId: topicAgentId }, 'malformed progress ignored');
      return;
    }

    const pending = this.#pending.get(parsed.value.commandId);

    if (pending === undefined || pending.agentId !== topicAgentId) {
      return;
    }

    if (pending.onProgress === undefined) {
      pending.progress.push(parsed.value);
      return;
    }

    try {
      pending.onProgress(parsed.value);
    } catch (error) {
      this.#logger.warn(
        { err: error, commandId: pending.id, agentId: pending.agentId },
        'onProgress callback threw',
      );
    }
  }

  #onStatus(topicAgentId: string, payload: Buffer): void {
    if (payload.byteLength === 0) {
      // A cleared retained status: the agent was removed.
      this.#presence.delete(topicAgentId);
      return;
    }

    const parsed = parseStatus(payload);

    if (!parsed.ok || parsed.value.agentId !== topicAgentId) {
      this.#logger.warn({ agentId: topicAgentId }, 'malformed status ignored');
      return;
    }

    const presence = presenceFromStatus(parsed.value, new Date());
    this.#presence.set(topicAgentId, presence);

    for (const listener of [...this.#presenceListeners]) {
      listener(presence);
    }
  }
}

async function loadCa(options: ResolvedConnectOptions): Promise<{ ca?: Buffer }> {
  if (options.ca !== undefined) {
    return { ca: Buffer.from(options.ca) };
  }

  if (options.caFile === undefined) {
    return {};
  }

  try {
    return { ca: await readFile(options.caFile) };
  } catch (error) {
    throw new BeckonError('invalid_arguments', `options.caFile: cannot read ${options.caFile}`, {
      argument: 'options.caFile',
      cause: error,
    });
  }
}

/**
 * Connects an app to Beckon: loads its key, obtains its certified credential (and a broker
 * token when asked), opens the broker session and resolves once it is ready.
 *
 * Pass a catalogue type to check `args` at compile time: `connect<MyCatalogue>(options)`.
 */
export async function connect<C extends Catalogue = UntypedCatalogue>(
  options: unknown,
): Promise<BeckonClient<C>> {
  const settings = resolveConnectOptions(options);
  const logger = (settings.logger ?? pino({ enabled: false })).child({ appId: settings.appId });
  const { ca } = await loadCa(settings);
  const auth =
    settings.authUrl === undefined
      ? undefined
      : {
          url: settings.authUrl,
          appId: settings.appId,
          secret: settings.secret,
          ...(ca === undefined ? {} : { ca }),
        };

  let signer: Signer | undefined;
  let brokerToken: Renewing<string> | undefined;

  try {
    if (!settings.unsigned && auth !== undefined) {
      const key =
        settings.privateKeyFile === undefined
          ? loadAppKey(settings.privateKey, 'options.privateKey')
          : await readAppKeyFile(settings.privateKeyFile, 'options.privateKeyFile');
      const credential = new Renewing<string>({
        name: 'credential',
        logger,
        unavailableCode: 'credential_unavailable',
        fetch: async () => {
          const answer = await fetchCredential(auth, key.publicJwk);

          return { value: answer.credential, expiresAt: new Date(answer.expiresAt) };
        },
      });
      await credential.start();
      signer = { key, credential };
    } else {
      logger.warn({}, 'commands are unsigned: only agents with signature checks off accept them');
    }

    if (settings.brokerLogin === 'token' && auth !== undefined) {
      brokerToken = new Renewing<string>({
        name: 'broker token',
        logger,
        unavailableCode: 'not_connected',
        fetch: async () => {
          const answer = await fetchBrokerToken(auth);

          return { value: answer.token, expiresAt: new Date(answer.expiresAt) };
        },
        // The broker checks a token at connect (and its ACL checks may read its expiry).
        onRenewed: () => {
          session.reconnectNow();
        },
      });
      await brokerToken.start();
    }
  } catch (error) {
    signer?.credential.stop();
    brokerToken?.stop();
    throw error;
  }

  const token = brokerToken;
  const session: MqttSession = new MqttSession({
    url: settings.url,
    clientId: settings.clientId ?? `${settings.appId}-${randomUUID().slice(0, 8)}`,
    mqttVersion: settings.mqttVersion,
    // jwt backends take the token as the username; the password must only be non-empty.
    login: () =>
      token === undefined
        ? { username: settings.appId, password: settings.secret }
        : { username: token.peek() ?? '', password: 'jwt' },
    ...(ca === undefined ? {} : { ca }),
    ...(settings.servername === undefined ? {} : { servername: settings.servername }),
    schedule: settings.schedule,
    logger,
  });
  const client = new BeckonClient<C>(settings, logger, session, signer, brokerToken);

  try {
    await firstSession(session, settings);
  } catch (error) {
    await client.close();
    throw error;
  }

  return client;
}

// The first session must come up within connectTimeout; refused credentials fail at once,
// since retrying them cannot help a caller that is still starting up.
async function firstSession(session: MqttSession, settings: ResolvedConnectOptions): Promise<void> {
  const giveUp = new AbortController();
  const timer = setTimeout(() => {
    giveUp.abort(
      new BeckonError(
        'not_connected',
        `no broker session at ${settings.url} within ${settings.connectTimeoutMs} ms`,
      ),
    );
  }, settings.connectTimeoutMs);
  const onRefused = (error: BeckonError): void => {
    giveUp.abort(error);
  };
  const onCallerAbort = (): void => {
    giveUp.abort(
      new BeckonError('aborted', 'connect was aborted', { cause: settings.signal?.reason }),
    );
  };
  session.once('refused', onRefused);
  settings.signal?.addEventListener('abort', onCallerAbort, { once: true });

  try {
    void session.subscribe(RESULTS_FILTER).catch(() => undefined);
    session.start();
    await session.whenReady(giveUp.signal);
  } finally {
    clearTimeout(timer);
    session.off('refused', onRefused);
    settings.signal?.removeEventListener('abort', onCallerAbort);
  }
}
