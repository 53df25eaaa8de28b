import { agentTopics, Status, type ActionDescriptor } from '@beckon/shared';
import type { ActionRunner } from './actions/types.js';
import { withBuiltIns } from './built-ins.js';
import type { AgentConfig } from './config/schema.js';
import { readCredentials, type AgentCredentials } from './enroll/credentials-file.js';
import { hostFacts } from './host-facts.js';
import type { Logger } from './logger.js';
import { MqttSession, type BrokerLogin } from './mqtt/mqtt-session.js';
import type { ReconnectTimings } from './mqtt/reconnect-schedule.js';
import { CommandPipeline } from './pipeline/command-pipeline.js';
import { ResultPublisher } from './pipeline/result-publisher.js';
import { interruptedResult } from './pipeline/results.js';
import { TrustState } from './pipeline/trust.js';
import { AgentStateMachine, type AgentState } from './service/agent-state.js';
import { SystemdNotifier, type SystemdEnv } from './service/systemd.js';
import { ReplayStore } from './state/replay-store.js';
import { agentVersion } from './version.js';

/** How long shutdown waits for the broker to acknowledge results and the offline status. */
const PUBLISH_DRAIN_TIMEOUT_MS = 5_000;
/** After aborting runs: the runner's kill grace plus this for it to report back. */
const RUNNER_SETTLE_MS = 2_000;
const MS_PER_SECOND = 1_000;

export interface AgentOptions {
  readonly config: Readonly<AgentConfig>;
  /** Runs configured actions; the pipeline hands it only verified, validated requests. */
  readonly runner: ActionRunner;
  /** Descriptors of the configured actions (the runner half's `describe`); built-ins are added. */
  readonly catalogue: readonly ActionDescriptor[];
  readonly logger: Logger;
  /** systemd's variables (NOTIFY_SOCKET, WATCHDOG_USEC); process.env in production. */
  readonly env?: SystemdEnv;
  /** For tests that cannot wait for production backoff. */
  readonly reconnectTimings?: ReconnectTimings;
}

export class AgentStartError extends Error {
  override readonly name = 'AgentStartError';
}

/**
 * The composed daemon: credentials, replay store, trust, MQTT session, command pipeline,
 * presence and systemd, with an orderly shutdown. Created by `startAgent`.
 */
export class Agent {
  readonly agentId: string;
  readonly #options: AgentOptions;
  readonly #logger: Logger;
  readonly #machine: AgentStateMachine;
  readonly #notifier: SystemdNotifier;
  readonly #store: ReplayStore;
  readonly #trust: TrustState;
  readonly #session: MqttSession;
  readonly #publisher: ResultPublisher;
  readonly #pipeline: CommandPipeline;
  readonly #catalogue: readonly ActionDescriptor[];
  readonly #topics: ReturnType<typeof agentTopics>;
  readonly #startedAt = new Date().toISOString();
  #stopping: Promise<void> | undefined;
  #hurry: (() => void) | undefined;
  readonly #hurried: Promise<void>;

  private constructor(
    options: AgentOptions,
    credentials: AgentCredentials,
    store: ReplayStore,
    machine: AgentStateMachine,
  ) {
    const { config } = options;
    this.#options = options;
    this.agentId = credentials.agentId;
    this.#logger = options.logger;
    this.#machine = machine;
    this.#store = store;
    this.#topics = agentTopics(this.agentId);
    this.#catalogue = withBuiltIns(options.catalogue);
    this.#notifier = new SystemdNotifier(options.env ?? {}, this.#logger);
    this.#hurried = new Promise((resolve) => {
      this.#hurry = resolve;
    });
    const authUrl = config.authUrl ?? credentials.authUrl;
    this.#trust = new TrustState(
      { trustRoot: credentials.trustRoot, groups: credentials.groups },
      {
        agentId: this.agentId,
        ...(authUrl === undefined ? {} : { authUrl }),
        basicAuth: () => this.#login(),
      },
      this.#logger,
    );
    this.#session = new MqttSession({
      broker: config.broker,
      clientId: `beckon-agent-${this.agentId}`,
      commandsTopic: this.#topics.commands,
      login: () => this.#login(),
      will: () => ({
        topic: this.#topics.status,
        payload: this.#statusPayload('offline', 'connection lost'),
      }),
      onConnect: () => this.#onConnect(),
      onMessage: (_topic, payload) => this.#pipeline.handle(payload),
      onStateChange: (state) => {
        if (state === 'connecting' || state === 'connected' || state === 'reconnecting') {
          this.#machine.moveTo(state);
        }
      },
      logger: this.#logger,
      ...(options.reconnectTimings === undefined ? {} : { timings: options.reconnectTimings }),
    });
    this.#publisher = new ResultPublisher(this.#session, store, this.#topics, this.#logger);
    this.#pipeline = new CommandPipeline({
      agentId: this.agentId,
      config,
      catalogue: () => this.#catalogue,
      runner: options.runner,
      store,
      trust: this.#trust,
      publisher: this.#publisher,
      logger: this.#logger,
      onActivity: () => void this.#notifier.status(this.#statusLine()),
    });
    this.#machine.onChange(() => void this.#notifier.status(this.#statusLine()));
  }

  /** Loads credentials and state, connects, and resolves once the first attempt is under way. */
  static async start(options: AgentOptions): Promise<Agent> {
    const { config } = options;

    if (!config.security.requireSignatures) {
      options.logger.warn(
        { setting: 'security.requireSignatures' },
        'SIGNATURE CHECKS ARE OFF: any client that can publish to this agent commands topic ' +
          'can run its actions; use this only for a local test setup',
      );
    }

    const credentials = await readCredentials(config.credentialsFile);

    if (config.agentId !== undefined && config.agentId !== credentials.agentId) {
      throw new AgentStartError(
        `config says agentId ${config.agentId} but ${config.credentialsFile} is for ` +
          credentials.agentId,
      );
    }

    // Every line from here on names the agent.
    const logger = options.logger.child({ agentId: credentials.agentId });
    const machine = new AgentStateMachine(logger);
    const store = await ReplayStore.open(config.stateDir, { logger });
    const agent = new Agent({ ...options, logger }, credentials, store, machine);

    try {
      await agent.#recoverInterrupted();
      await agent.#trust.start();
      machine.moveTo('connecting');
      await agent.#session.start();
    } catch (error) {
      agent.#trust.stop();
      await store.close();
      throw error;
    }

    await agent.#notifier.ready(agent.#statusLine());
    agent.#notifier.startWatchdog();

    return agent;
  }

  get state(): AgentState {
    return this.#machine.state;
  }

  get running(): number {
    return this.#pipeline.running;
  }

  /**
   * Orderly shutdown: refuse new commands, give running ones the grace period, interrupt the
   * rest, publish their results and the offline status, disconnect. Idempotent.
   */
  stop(reason: string): Promise<void> {
    this.#stopping ??= this.#shutdown(reason);

    return this.#stopping;
  }

  /** A second signal during shutdown: skip what is left of the grace period. */
  hurry(): void {
    this.#hurry?.();
  }

  async #shutdown(reason: string): Promise<void> {
    const { limits } = this.#options.config;
    this.#logger.info({ reason, running: this.#pipeline.running }, 'shutting down');
    this.#machine.moveTo('draining');
    this.#pipeline.stopAccepting();
    await this.#notifier.stopping();

    const graceMs = limits.shutdownGraceSeconds * MS_PER_SECOND;
    const idle = await Promise.race([
      this.#pipeline.waitForIdle(graceMs),
      this.#hurried.then(() => false),
    ]);

    if (!idle) {
      this.#pipeline.interruptAll();
      const settleMs = limits.killGraceSeconds * MS_PER_SECOND + RUNNER_SETTLE_MS;

      if (!(await this.#pipeline.waitForIdle(settleMs))) {
        this.#logger.error(
          { running: this.#pipeline.running },
          'runs did not end; they are reported interrupted at the next start',
        );
      }
    }

    if (this.#session.connected) {
      await this.#publisher.drain(PUBLISH_DRAIN_TIMEOUT_MS);
      await this.#publishStatus('offline', reason, PUBLISH_DRAIN_TIMEOUT_MS);
    }

    await this.#session.stop(PUBLISH_DRAIN_TIMEOUT_MS);
    this.#trust.stop();
    this.#notifier.stopWatchdog();
    await this.#store.close();
    this.#machine.moveTo('stopped');
  }

  // A `started` command without a result means the previous process died under it. It is
  // never run again: its result says interrupted and goes out with the other stored results.
  async #recoverInterrupted(): Promise<void> {
    for (const entry of this.#store.unfinished()) {
      if (entry.result !== undefined) {
        continue;
      }

      this.#logger.warn(
        { commandId: entry.id, action: entry.action, issuer: entry.issuer },
        'command was interrupted by the previous stop',
      );
      await this.#store.recordResult(
        entry.id,
        interruptedResult({
          commandId: entry.id,
          agentId: this.agentId,
          action: entry.action,
          issuer: entry.issuer,
          receivedAt: new Date(entry.receivedAt),
          ...(entry.correlationData === undefined
            ? {}
            : { correlationData: entry.correlationData }),
        }),
      );
    }
  }

  async #login(): Promise<BrokerLogin> {
    const credentials = await readCredentials(this.#options.config.credentialsFile);

    if (credentials.agentId !== this.agentId) {
      throw new AgentStartError(
        `${this.#options.config.credentialsFile} now holds agent ${credentials.agentId}`,
      );
    }

    return { username: credentials.username, password: credentials.password };
  }

  #onConnect(): void {
    void this.#publishStatus('online', undefined, undefined);
    this.#publisher.flushUnfinished();
  }

  #statusPayload(state: 'online' | 'offline', reason: string | undefined): string {
    const status: Status = {
      kind: 'status',
      agentId: this.agentId,
      state,
      version: agentVersion(),
      startedAt: this.#startedAt,
      at: new Date().toISOString(),
      host: hostFacts(),
      catalogue: [...this.#catalogue],
      ...(reason === undefined ? {} : { reason }),
    };

    return JSON.stringify(Status.parse(status));
  }

  async #publishStatus(
    state: 'online' | 'offline',
    reason: string | undefined,
    timeoutMs: number | undefined,
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;

    try {
      const publish = this.#session.publish(
        this.#topics.status,
        this.#statusPayload(state, reason),
        { qos: 1, retain: true },
      );
      const timeout = new Promise<void>((resolve) => {
        if (timeoutMs !== undefined) {
          timer = setTimeout(resolve, timeoutMs);
        }
      });
      await Promise.race([publish, ...(timeoutMs === undefined ? [] : [timeout])]);
      this.#logger.info({ state }, 'status published');
    } catch (error) {
      this.#logger.warn({ err: error, state }, 'status not published');
    } finally {
      clearTimeout(timer);
    }
  }

  #statusLine(): string {
    const running = this.#pipeline.running;
    const state = this.#machine.state;

    return running > 0 ? `${state}, running ${running} action(s)` : state;
  }
}

/** Starts the agent; see `Agent`. */
export function startAgent(options: AgentOptions): Promise<Agent> {
  return Agent.start(options);
}
