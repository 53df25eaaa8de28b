import { createHash } from 'node:crypto';
import type { z } from 'zod';
import {
  appTopic,
  decodePayload,
  describeIssues,
  parseInbound,
  safeParse,
  salvageCommandId,
  type ActionDescriptor,
  type Args,
  type ArgSpecs,
  type Cancel,
  type Command,
  type Result,
  type ResultErrorCode,
} from '@beckon/shared';
import { argsSchemaOf } from '../actions/build-argv.js';
import type { ActionRunner, RunOutcome } from '../actions/types.js';
import type { ActionConfig, AgentConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { StoreFullError, type CommandRecord, type ReplayStore } from '../state/replay-store.js';
import type { ResultPublisher } from './result-publisher.js';
import {
  builtInResult,
  contractResult,
  EMPTY_OUTPUT,
  refusalResult,
  runResult,
  type ResultContext,
} from './results.js';
import type { TrustState } from './trust.js';

/** Why the pipeline aborted a run; passed as the AbortSignal's reason. */
export type AbortReason = 'cancelled' | 'interrupted';

export interface PipelineOptions {
  readonly agentId: string;
  readonly config: Readonly<AgentConfig>;
  /** The catalogue `describe` answers with (the same one the online status carries). */
  readonly catalogue: () => readonly ActionDescriptor[];
  readonly runner: ActionRunner;
  readonly store: ReplayStore;
  readonly trust: TrustState;
  readonly publisher: ResultPublisher;
  /** Already bound to the agent id, which every line therefore carries. */
  readonly logger: Logger;
  /** Called whenever the number of running commands changes (systemd STATUS). */
  readonly onActivity?: (running: number) => void;
}

interface RunningCommand {
  readonly issuer: string;
  readonly action: string;
  readonly controller: AbortController;
  abortReason?: AbortReason;
}

type Refusal = { readonly code: ResultErrorCode; readonly message: string };

const NO_ARGS: ArgSpecs = {};

function sha256(payload: Buffer): string {
  return createHash('sha256').update(payload).digest('hex');
}

/**
 * Ping's result needs no contract check: its output is empty and every other field is either
 * the agent's own clock or a field of the command that passed the same schema in the inbound
 * parse (pipeline-builtins.test.ts pins that at every bound). The check cost about 20 us of
 * the agent's CPU per ping (perf, 2026-12-04). `describe` keeps it: a large catalogue can
 * exceed the output limit.
 */
function pingResult(context: ResultContext, startedAt: Date): { result: Result; valid: true } {
  return { result: builtInResult(context, '', startedAt, new Date()), valid: true };
}

/** Arguments for a log line: values of `secret` arguments never leave the agent. */
function loggableArgs(args: Args, specs: ArgSpecs): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(args).map(([name, value]) => [
      name,
      specs[name]?.secret === true ? '[secret]' : value,
    ]),
  );
}

/**
 * Everything between a message on the commands topic and a result: parse, address, replay,
 * expiry, signature and grant, allow-list, argument types, capacity; then record, run and
 * report. Every message gets exactly one answer and nothing runs unless all checks passed.
 * `handle` resolves once the message is answered or recorded (durably, for anything that runs
 * a program: see replay-store.ts), which is when the session acknowledges it to the broker.
 */
export class CommandPipeline {
  readonly #options: PipelineOptions;
  readonly #logger: Logger;
  readonly #running = new Map<string, RunningCommand>();
  readonly #settling = new Set<Promise<void>>();
  /** Every action's argument schema, compiled once from the config rather than per command. */
  readonly #argSchemas: ReadonlyMap<ActionConfig | 'built-in', z.ZodType<Args>>;
  #accepting = true;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#logger = options.logger;
    const schemas = new Map<ActionConfig | 'built-in', z.ZodType<Args>>();
    schemas.set('built-in', argsSchemaOf(NO_ARGS));

    for (const action of Object.values(options.config.actions)) {
      schemas.set(action, argsSchemaOf(action.args));
    }

    this.#argSchemas = schemas;
  }

  get running(): number {
    return this.#running.size;
  }

  /** From now on new commands are answered `unavailable`; cancels still work. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Aborts every running or queued command; each then reports `interrupted`. */
  interruptAll(): void {
    for (const [commandId, running] of this.#running) {
      this.#logger.warn({ commandId, action: running.action }, 'interrupting command');
      running.abortReason = 'interrupted';
      running.controller.abort('interrupted' satisfies AbortReason);
    }
  }

  /** Resolves true when no command is running (results recorded), false on timeout. */
  async waitForIdle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });

    try {
      while (this.#settling.size > 0) {
        const settled = await Promise.race([
          Promise.all([...this.#settling]).then(() => true),
          timeout,
        ]);

        if (!settled) {
          return false;
        }
      }

      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Handles one message from the commands topic; never rejects. */
  async handle(payload: Buffer): Promise<void> {
    const receivedAt = new Date();

    try {
      const parsed = parseInbound(payload);

      if (!parsed.ok) {
        this.#refuseMalformed(payload, describeIssues(parsed.issues), receivedAt);
        return;
      }

      const message = parsed.value;

      if (message.kind === 'cancel') {
        await this.#handleCancel(message, receivedAt);
      } else {
        await this.#handleCommand(message, sha256(payload), receivedAt);
      }
    } catch (error) {
      this.#logger.error({ err: error }, 'pipeline fault');
      const decoded = decodePayload(payload);
      const commandId = decoded.ok ? salvageCommandId(decoded.value) : null;
      this.#answer(
        { commandId, agentId: this.#options.agentId, receivedAt },
        { code: 'internal', message: 'the agent failed to handle this message' },
        false,
      );
    }
  }

  #refuseMalformed(payload: Buffer, reason: string, receivedAt: Date): void {
    const decoded = decodePayload(payload);
    const commandId = decoded.ok ? salvageCommandId(decoded.value) : null;
    this.#answer(
      { commandId, agentId: this.#options.agentId, receivedAt },
      { code: 'malformed', message: reason },
      false,
    );
  }

  /** Publishes a refusal (recorded in the store when `recorded`) and logs it. */
  #answer(context: ResultContext, refusal: Refusal, recorded: boolean, replyTo?: string): void {
    const result = refusalResult(context, refusal.code, refusal.message);
    this.#logger.warn(
      {
        commandId: context.commandId,
        action: context.action,
        issuer: context.issuer,
        outcome: result.outcome,
        code: refusal.code,
        reason: refusal.message,
      },
      'command rejected',
    );
    void this.#options.publisher.deliver(result, { replyTo, recorded });
  }

  async #verify(message: Command | Cancel): Promise<Refusal | undefined> {
    const required = this.#options.config.security.requireSignatures;

    // With checks off, unsigned messages pass; a signed one is still checked, because a
    // signature that does not verify is a forgery whatever the setting.
    if (!required && message.auth === undefined) {
      return undefined;
    }

    const verified = await this.#options.trust.verify(message);

    return verified.ok ? undefined : { code: verified.code, message: verified.message };
  }

  #refuseCommon(message: Command | Cancel, receivedAt: Date): Refusal | undefined {
    const { agentId } = this.#options;

    if (message.agentId !== agentId) {
      return {
        code: 'wrong_agent',
        message: `addressed to agent ${message.agentId}, received by ${agentId}`,
      };
    }

    if (Date.parse(message.expiresAt) <= receivedAt.getTime()) {
      return { code: 'expired', message: `expired at ${message.expiresAt}` };
    }

    return undefined;
  }

  async #handleCancel(cancel: Cancel, receivedAt: Date): Promise<void> {
    const { agentId } = this.#options;
    const context: ResultContext = {
      commandId: cancel.id,
      agentId,
      issuer: cancel.issuer,
      receivedAt,
    };
    this.#logger.info(
      { cancelId: cancel.id, commandId: cancel.commandId, issuer: cancel.issuer },
      'cancel received',
    );
    const refusal = this.#refuseCommon(cancel, receivedAt) ?? (await this.#verify(cancel));

    if (refusal !== undefined) {
      this.#answer(context, refusal, false);
      return;
    }

    const running = this.#running.get(cancel.commandId);

    if (running === undefined) {
      this.#answer(
        context,
        {
          code: 'unknown_command',
          message: `command ${cancel.commandId} is not running or queued on this agent`,
        },
        false,
      );
      return;
    }

    if (running.issuer !== cancel.issuer) {
      this.#answer(
        context,
        {
          code: 'not_granted',
          message: `only ${running.issuer}, which sent command ${cancel.commandId}, may cancel it`,
        },
        false,
      );
      return;
    }

    // The cancel itself gets no result of its own: the command's result (cancelled) answers it.
    this.#logger.info(
      { cancelId: cancel.id, commandId: cancel.commandId, action: running.action },
      'cancelling command',
    );
    running.abortReason = 'cancelled';
    running.controller.abort('cancelled' satisfies AbortReason);
  }

  async #handleCommand(command: Command, hash: string, receivedAt: Date): Promise<void> {
    const { agentId, store } = this.#options;
    const context: ResultContext = {
      commandId: command.id,
      agentId,
      action: command.action,
      issuer: command.issuer,
      receivedAt,
      ...(command.correlationData === undefined
        ? {}
        : { correlationData: command.correlationData }),
    };
    this.#logger.info(
      { commandId: command.id, action: command.action, issuer: command.issuer },
      'command received',
    );

    if (command.agentId !== agentId) {
      this.#answer(
        context,
        { code: 'wrong_agent', message: `addressed to agent ${command.agentId}` },
        false,
      );
      return;
    }

    const seen = store.lookup(command.id);

    if (seen !== undefined) {
      this.#handleSeen(command, hash, seen.hash, seen.result, seen.replyTo, context);
      return;
    }

    const early = this.#refuseCommon(command, receivedAt) ?? (await this.#verify(command));

    if (early !== undefined) {
      this.#answer(context, early, false);
      return;
    }

    const replyTo = this.#replyTopic(command);
    const action = this.#lookupAction(command.action);
    const refusal =
      action === undefined
        ? {
            code: 'unknown_action' as const,
            message: `action ${command.action} is not in this agent's allow-list`,
          }
        : (this.#checkArgs(command.args, action) ?? this.#checkCapacity());

    // Optional fields assigned, not spread in: a spread here missed V8's inline caches on
    // every command (replay-store.ts's withCommand says more).
    const record: CommandRecord = {
      id: command.id,
      hash,
      expiresAt: command.expiresAt,
      receivedAt: receivedAt.toISOString(),
      action: command.action,
      issuer: command.issuer,
    };

    if (replyTo !== undefined) {
      record.replyTo = replyTo;
    }

    if (command.correlationData !== undefined) {
      record.correlationData = command.correlationData;
    }

    if (action === 'built-in' && refusal === undefined) {
      await this.#answerBuiltIn(command, record, context, replyTo);
      return;
    }

    try {
      await store.accept(record);
    } catch (error) {
      if (!(error instanceof StoreFullError)) {
        throw error;
      }

      this.#answer(context, { code: 'unavailable', message: error.message }, false, replyTo);
      return;
    }

    if (refusal !== undefined) {
      await this.#finish(context, refusalResult(context, refusal.code, refusal.message), replyTo);
      this.#logger.warn(
        { ...this.#logContext(context), code: refusal.code, reason: refusal.message },
        'command rejected',
      );
      return;
    }

    if (action !== undefined && action !== 'built-in') {
      this.#launch(command, action, context, replyTo);
    }
  }

  #handleSeen(
    command: Command,
    hash: string,
    seenHash: string,
    result: Result | undefined,
    replyTo: string | undefined,
    context: ResultContext,
  ): void {
    const log = this.#logContext(context);

    if (seenHash !== hash) {
      this.#answer(
        context,
        { code: 'replayed', message: `command id ${command.id} was already used` },
        false,
      );
      return;
    }

    // The same message again: a QoS 1 redelivery (our PUBACK was lost) or a broker replaying
    // it. It never runs twice; a finished one gets its stored result again, which is
    // idempotent for the sender and repairs a lost result.
    if (result === undefined) {
      this.#logger.info(log, 'duplicate delivery of a running command ignored');
      return;
    }

    this.#logger.info({ ...log, outcome: result.outcome }, 'duplicate delivery, result resent');
    void this.#options.publisher.deliver(result, { replyTo, recorded: true });
  }

  #logContext(context: ResultContext) {
    return {
      commandId: context.commandId,
      action: context.action,
      issuer: context.issuer,
    };
  }

  #replyTopic(command: Command): string | undefined {
    if (command.replyTo === undefined) {
      return undefined;
    }

    const expected = appTopic(command.issuer, 'replies');

    if (command.replyTo === expected) {
      return expected;
    }

    this.#logger.warn(
      {
        commandId: command.id,
        issuer: command.issuer,
        replyTo: command.replyTo,
      },
      'replyTo is not the issuer replies topic, ignored',
    );

    return undefined;
  }

  #lookupAction(name: string): ActionConfig | 'built-in' | undefined {
    if (name === 'ping' || name === 'describe') {
      return 'built-in';
    }

    return Object.hasOwn(this.#options.config.actions, name)
      ? this.#options.config.actions[name]
      : undefined;
  }

  #checkArgs(args: Args, action: ActionConfig | 'built-in'): Refusal | undefined {
    const schema =
      this.#argSchemas.get(action) ?? argsSchemaOf(action === 'built-in' ? NO_ARGS : action.args);
    const checked = safeParse(schema, args);

    if (checked.ok) {
      return undefined;
    }

    // Issue messages name the argument and the rule, never the value (it may be secret).
    return { code: 'invalid_args', message: describeIssues(checked.issues) };
  }

  #checkCapacity(): Refusal | undefined {
    if (!this.#accepting) {
      return { code: 'unavailable', message: 'the agent is shutting down' };
    }

    if (!this.#options.runner.canAccept()) {
      return { code: 'unavailable', message: 'the agent queue is full' };
    }

    return undefined;
  }

  async #finish(context: ResultContext, result: Result, replyTo: string | undefined) {
    const checked = contractResult(result);

    if (!checked.valid) {
      this.#logger.error(this.#logContext(context), 'result failed the contract');
    }

    await this.#options.store.recordResult(result.commandId ?? '', checked.result);
    void this.#options.publisher.deliver(checked.result, { replyTo, recorded: true });

    return checked.result;
  }

  // A built-in changes nothing on the machine, so it is answered at once and its journal
  // lines are written without a sync (replay-store.ts says why that is enough). The result
  // goes out before the write completes: the write guards only against answering a copy of
  // this command again, which for a built-in is harmless. The PUBACK, sent when the handler
  // returns, still waits for the write, so an agent crash before it means a redelivery.
  async #answerBuiltIn(
    command: Command,
    record: CommandRecord,
    context: ResultContext,
    replyTo: string | undefined,
  ): Promise<void> {
    const startedAt = new Date();
    const log = this.#logContext(context);
    const checked =
      command.action === 'describe'
        ? this.#describeResult(context, startedAt)
        : pingResult(context, startedAt);

    if (!checked.valid) {
      this.#logger.error(log, 'result failed the contract');
    }

    let written: Promise<void>;

    try {
      written = this.#options.store.acceptAnswered(record, checked.result);
    } catch (error) {
      if (!(error instanceof StoreFullError)) {
        throw error;
      }

      this.#answer(context, { code: 'unavailable', message: error.message }, false, replyTo);
      return;
    }

    void this.#options.publisher.deliver(checked.result, { replyTo, recorded: true });
    // One literal rather than a spread of `log`: it is built for every ping, logged or not.
    this.#logger.info(
      {
        commandId: log.commandId,
        action: log.action,
        issuer: log.issuer,
        outcome: checked.result.outcome,
        durationMs: 0,
      },
      'command finished',
    );

    try {
      await written;
    } catch (error) {
      this.#logger.error({ ...log, err: error }, 'recording a built-in failed');
    }
  }

  #describeResult(context: ResultContext, startedAt: Date) {
    const catalogue = JSON.stringify(this.#options.catalogue());

    return contractResult(builtInResult(context, catalogue, startedAt, new Date()));
  }

  #launch(command: Command, action: ActionConfig, context: ResultContext, replyTo?: string) {
    const { agentId, runner, publisher } = this.#options;
    const controller = new AbortController();
    const running: RunningCommand = {
      issuer: command.issuer,
      action: command.action,
      controller,
    };
    this.#running.set(command.id, running);
    this.#options.onActivity?.(this.#running.size);
    let seq = 0;
    const log = this.#logContext(context);

    // The runner promises never to reject; if it breaks that promise (or throws at once) the
    // sender still gets a result, reported as the agent's own fault.
    const run = (async () =>
      runner.run({
        commandId: command.id,
        actionName: command.action,
        action,
        args: command.args,
        signal: controller.signal,
        onStart: () => {
          this.#logger.info(
            { ...log, args: loggableArgs(command.args, action.args) },
            'command started',
          );
        },
        ...(command.progress === true
          ? {
              onProgress: (chunk) =>
                publisher.progress(
                  {
                    kind: 'progress',
                    commandId: command.id,
                    agentId,
                    stream: chunk.stream,
                    at: new Date().toISOString(),
                  },
                  chunk.data,
                  () => seq++,
                ),
            }
          : {}),
      }))().catch((error: unknown): RunOutcome => {
      this.#logger.error({ ...log, err: error }, 'the action runner failed');

      return {
        outcome: 'failed',
        exitCode: null,
        signal: null,
        output: EMPTY_OUTPUT,
        finishedAt: new Date(),
        error: { code: 'internal', message: 'the agent failed to run this action' },
      };
    });

    const settled = run
      .then((outcome) => this.#completed(context, running, outcome, replyTo))
      .catch((error: unknown) => {
        this.#logger.error({ ...log, err: error }, 'recording the result failed');
      })
      .finally(() => {
        this.#running.delete(command.id);
        this.#settling.delete(settled);
        this.#options.onActivity?.(this.#running.size);
      });
    this.#settling.add(settled);
  }

  async #completed(
    context: ResultContext,
    running: RunningCommand,
    run: RunOutcome,
    replyTo: string | undefined,
  ): Promise<void> {
    const reason = running.abortReason;
    // The pipeline knows why it aborted; an aborted run reports that reason whatever the
    // runner guessed. A run that finished before the abort took effect keeps its own outcome.
    const aborted =
      reason !== undefined && (run.outcome === 'cancelled' || run.outcome === 'interrupted');
    const outcome: RunOutcome = aborted
      ? {
          ...run,
          outcome: reason,
          error: {
            code: reason,
            message:
              reason === 'cancelled'
                ? 'cancelled by its issuer'
                : 'the agent stopped while this command ran',
          },
        }
      : run;
    const result = await this.#finish(context, runResult(context, outcome), replyTo);
    this.#logger.info(
      {
        ...this.#logContext(context),
        outcome: result.outcome,
        exitCode: result.exitCode,
        durationMs: result.timings.durationMs,
        code: result.error?.code,
      },
      'command finished',
    );
  }
}
