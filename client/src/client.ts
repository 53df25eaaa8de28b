import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
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
  parseTopic,
  safeParse,
  signMessage,
  type Cancel,
  type Command,
  type Progress,
  type Result,
  type Unsigned,
} from '@beckon/shared';
import type { Logger } from 'pino';
import { z } from 'zod';
import { fetchGroupAgents, type AuthServiceOptions } from './auth-api.js';
import type { ActionOf, ArgsOf, Catalogue, UntypedCatalogue } from './catalogue-types.js';
import { BeckonError, invalidArgument } from './errors.js';
import { fanOut, type FanOutOptions, type FanOutReport } from './fan-out.js';
import { LiveFeed, type Watch, type WatchOptions } from './live-feed.js';
import type { MqttSession } from './mqtt-session.js';
import { PendingCommands, type SucceededResult } from './pending-commands.js';
import { PresenceBook } from './presence-book.js';
import type { AgentPresence } from './presence.js';
import type { AppKey } from './private-key.js';
import type { Renewing } from './renewing.js';

/** How long send() waits for a result unless told otherwise. */
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;
/** A cancel is worth acting on only briefly. */
const CANCEL_TTL_MS = 30_000;
const MAX_DURATION_MS = 24 * 60 * 60 * 1_000;
const MAX_FAN_OUT_AGENTS = 100_000;

const PROGRESS_FILTER = allAgentsFilter('progress');
const STATUS_FILTER = allAgentsFilter('status');

// Sending twice to one agent in one fan-out is a caller's mistake, not a wish.
const UniqueAgentIds = z
  .array(AgentId)
  .max(MAX_FAN_OUT_AGENTS)
  .refine((ids) => new Set(ids).size === ids.length, { error: 'names an agent twice' });

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

interface ClientEvents {
  connected: [];
  disconnected: [];
}

/** The app's key and its renewing credential: what signing a message takes. */
export interface Signer {
  readonly key: AppKey;
  readonly credential: Renewing<string>;
}

/** @internal What connect() hands the client it built. */
export interface ClientParts {
  readonly appId: string;
  readonly logger: Logger;
  readonly session: MqttSession;
  readonly signer: Signer | undefined;
  readonly brokerToken: Renewing<string> | undefined;
  readonly auth?: AuthServiceOptions;
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
  readonly #parts: ClientParts;
  readonly #logger: Logger;
  readonly #session: MqttSession;
  readonly #pending: PendingCommands;
  readonly #presence: PresenceBook;
  readonly #results: LiveFeed<Result>;
  #closed = false;

  /** @internal Use connect(). */
  constructor(parts: ClientParts) {
    super();
    this.appId = parts.appId;
    this.#parts = parts;
    this.#logger = parts.logger;
    this.#session = parts.session;
    this.#pending = new PendingCommands(parts.logger);
    this.#presence = new PresenceBook(parts.logger);
    this.#results = new LiveFeed('watchResults', parts.logger);
    parts.session.on('message', (topic, payload) => {
      // A fault of ours must not escape into MQTT.js's parser loop and end the session.
      try {
        this.#onMessage(topic, payload);
      } catch (error) {
        this.#logger.error({ err: error, topic }, 'inbound message handling failed');
      }
    });
    parts.session.on('ready', () => this.emit('connected'));
    parts.session.on('offline', () => this.emit('disconnected'));
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
    const tracked = this.#pending.track({
      id,
      agentId: target,
      action: name,
      timeoutMs,
      signal: settings.signal,
      onProgress: settings.onProgress,
      onAbort: () => {
        if (settings.cancelOnAbort === true) {
          this.cancel(id, { agentId: target }).catch((error: unknown) => {
            this.#logger.warn({ err: error, commandId: id, agentId: target }, 'cancel failed');
          });
        }
      },
    });

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
      this.#pending.fail(
        id,
        error instanceof BeckonError
          ? error
          : new BeckonError('not_connected', 'the command could not be published', {
              commandId: id,
              agentId: target,
              cause: error,
            }),
      );
    });

    return {
      id,
      agentId: target,
      action: name,
      result: tracked.result,
      progress: tracked.progress,
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
    checked(ActionName, action, 'action');
    checked(Args, args, 'args');
    const { timeout, ttl } = checked(
      SendOptionsSchema.pick({ timeout: true, ttl: true }),
      { timeout: options.timeout, ttl: options.ttl },
      'options',
    );
    const agents = Array.isArray(target)
      ? checked(UniqueAgentIds, target, 'agents')
      : await this.groupMembers(
          checked(z.strictObject({ group: AgentId }), target, 'agents (ids or { group })').group,
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
      this.#logger,
    );
  }

  /** The agents of a group that the auth-service says this app is granted now. */
  async groupMembers(group: string): Promise<string[]> {
    const name = checked(AgentId, group, 'group');
    const { auth } = this.#parts;

    if (auth === undefined) {
      throw invalidArgument('group', 'cannot be resolved without the authUrl connect option');
    }

    return [...(await fetchGroupAgents(auth, name))];
  }

  /** Sends a signed cancel for a command; `agentId` is needed once the client forgot it. */
  async cancel(commandId: string, options: { readonly agentId?: string } = {}): Promise<void> {
    const id = checked(CommandId, commandId, 'commandId');
    const agentId = options.agentId ?? this.#pending.agentOf(id);

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

    return this.#presence.get(target);
  }

  /** Every agent with a retained status that the app may read. */
  async listAgents(): Promise<AgentPresence[]> {
    this.#assertOpen();
    await this.#session.subscribe(STATUS_FILTER);

    return this.#presence.list();
  }

  /** Presence changes as they happen, starting with what is already known. */
  watchStatus(options: WatchOptions<AgentPresence> = {}): Watch<AgentPresence> {
    this.#assertOpen();
    const watch = this.#presence.watch(options);
    this.#session.subscribe(STATUS_FILTER).catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'status subscription failed');
      watch.close();
    });

    return watch;
  }

  /** Every result the app may read, from any agent and any sender, as it arrives. */
  watchResults(options: WatchOptions<Result> = {}): Watch<Result> {
    this.#assertOpen();

    return this.#results.watch(options).watch;
  }

  /** Rejects pending commands with not_connected, stops renewals and leaves the broker. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }

    this.#closed = true;
    this.#pending.failAll(
      (commandId, agentId) =>
        new BeckonError('not_connected', 'the client was closed', { commandId, agentId }),
    );
    this.#presence.closeAll();
    this.#results.closeAll();
    this.#parts.signer?.credential.stop();
    this.#parts.brokerToken?.stop();
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

    // The caller may have given up while the progress subscription or signing was under way.
    if (!this.#pending.isPending(command.id)) {
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
    const { signer } = this.#parts;

    if (signer === undefined) {
      return message;
    }

    return signMessage<T>(message, {
      privateKey: signer.key.privateKey,
      alg: signer.key.alg,
      credential: signer.credential.current(),
    });
  }

  // Every inbound payload is parsed with the shared schemas and must name the agent whose
  // topic it came on: the broker lets only agent X write X's topics, so a body naming another
  // agent is a lie. Nothing inbound can throw out of here.
  #onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);

    if (parsed?.scope !== 'agent') {
      this.#logger.debug({ topic }, 'message on unknown topic ignored');
      return;
    }

    const { agentId } = parsed;

    switch (parsed.channel) {
      case 'results': {
        const result = parseResult(payload);

        if (!result.ok || result.value.agentId !== agentId) {
          this.#logger.warn(
            { agentId, issues: result.ok ? 'names another agent' : describeIssues(result.issues) },
            'malformed result ignored',
          );
          return;
        }

        this.#results.publish(result.value);
        this.#pending.onResult(result.value);
        return;
      }
      case 'progress': {
        const chunk = parseProgress(payload);

        if (!chunk.ok || chunk.value.agentId !== agentId) {
          this.#logger.warn({ agentId }, 'malformed progress ignored');
          return;
        }

        this.#pending.onProgress(chunk.value);
        return;
      }
      case 'status':
        this.#presence.onStatus(agentId, payload);
        return;
      case 'commands':
        this.#logger.debug({ topic }, 'command topic message ignored');
        return;
    }
  }
}
