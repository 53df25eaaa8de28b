import {
  MAX_ERROR_MESSAGE_LENGTH,
  Result as ResultSchema,
  type Output,
  type Result,
  type ResultErrorCode,
} from '@beckon/shared';
import type { RunOutcome } from '../actions/types.js';
import { fitOutput } from './fit-output.js';

export const EMPTY_OUTPUT: Output = Object.freeze({ stdout: '', stderr: '', truncated: false });

/** What is known about a message when its result is built; absent fields stay absent. */
export interface ResultContext {
  readonly commandId: string | null;
  readonly agentId: string;
  readonly action?: string;
  readonly issuer?: string;
  readonly correlationData?: string;
  readonly receivedAt: Date;
}

function base(context: ResultContext) {
  return {
    kind: 'result' as const,
    commandId: context.commandId,
    agentId: context.agentId,
    ...(context.action === undefined ? {} : { action: context.action }),
    ...(context.issuer === undefined ? {} : { issuer: context.issuer }),
    ...(context.correlationData === undefined ? {} : { correlationData: context.correlationData }),
  };
}

function clip(message: string): string {
  return message.length > MAX_ERROR_MESSAGE_LENGTH
    ? `${message.slice(0, MAX_ERROR_MESSAGE_LENGTH - 1)}…`
    : message;
}

/** A command that was refused before anything ran (`expired` for the expiry check). */
export function refusalResult(
  context: ResultContext,
  code: ResultErrorCode,
  message: string,
  now = new Date(),
): Result {
  return {
    ...base(context),
    outcome: code === 'expired' ? 'expired' : 'rejected',
    exitCode: null,
    output: EMPTY_OUTPUT,
    timings: { receivedAt: context.receivedAt.toISOString(), finishedAt: now.toISOString() },
    error: { code, message: clip(message) },
  };
}

/** A built-in (ping, describe) that succeeded without spawning anything. */
export function builtInResult(
  context: ResultContext,
  stdout: string,
  startedAt: Date,
  finishedAt: Date,
): Result {
  return {
    ...base(context),
    outcome: 'succeeded',
    exitCode: 0,
    output: fitOutput({ stdout, stderr: '', truncated: false }),
    timings: {
      receivedAt: context.receivedAt.toISOString(),
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
    },
  };
}

/** The result of a run, from the runner's outcome. */
export function runResult(context: ResultContext, run: RunOutcome): Result {
  const startedAt = run.startedAt;

  return {
    ...base(context),
    outcome: run.outcome,
    exitCode: run.exitCode,
    signal: run.signal,
    output: fitOutput(run.output),
    timings: {
      receivedAt: context.receivedAt.toISOString(),
      ...(startedAt === undefined
        ? {}
        : {
            startedAt: startedAt.toISOString(),
            durationMs: Math.max(0, run.finishedAt.getTime() - startedAt.getTime()),
          }),
      finishedAt: run.finishedAt.toISOString(),
    },
    ...(run.error === undefined
      ? {}
      : { error: { code: run.error.code, message: clip(run.error.message) } }),
  };
}

/** For a command the journal shows as started but never finished: the agent died under it. */
export function interruptedResult(context: ResultContext, now = new Date()): Result {
  return {
    ...base(context),
    outcome: 'interrupted',
    exitCode: null,
    output: EMPTY_OUTPUT,
    timings: { receivedAt: context.receivedAt.toISOString(), finishedAt: now.toISOString() },
    error: {
      code: 'interrupted',
      message: 'the agent stopped (crash or kill) while this command ran; it was not run again',
    },
  };
}

/**
 * The result itself when it meets the contract. One that does not is our own bug (or the
 * runner's); the sender then still gets an answer for its command id rather than silence.
 */
export function contractResult(result: Result): { result: Result; valid: boolean } {
  const checked = ResultSchema.safeParse(result);

  if (checked.success) {
    return { result: checked.data, valid: true };
  }

  return {
    valid: false,
    result: {
      kind: 'result',
      commandId: result.commandId,
      agentId: result.agentId,
      ...(result.action === undefined ? {} : { action: result.action }),
      ...(result.issuer === undefined ? {} : { issuer: result.issuer }),
      outcome: 'failed',
      exitCode: null,
      output: EMPTY_OUTPUT,
      timings: { receivedAt: result.timings.receivedAt, finishedAt: new Date().toISOString() },
      error: { code: 'internal', message: 'the agent produced a result that fails the contract' },
    },
  };
}
