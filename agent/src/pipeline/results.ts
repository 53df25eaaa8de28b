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

/**
 * Adds the context's optional fields to a result built as one literal. Spreading them in
 * (`...(cond ? {} : { action })`) gave every result a shape V8 could not keep in its inline
 * caches: on ping's hot path the property definitions missed them about 10 us per result
 * (perf, 2026-12-04). Absent fields stay absent.
 */
function withContext(result: Result, context: ResultContext): Result {
  if (context.action !== undefined) {
    result.action = context.action;
  }

  if (context.issuer !== undefined) {
    result.issuer = context.issuer;
  }

  if (context.correlationData !== undefined) {
    result.correlationData = context.correlationData;
  }

  return result;
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
  return withContext(
    {
      kind: 'result',
      commandId: context.commandId,
      agentId: context.agentId,
      outcome: code === 'expired' ? 'expired' : 'rejected',
      exitCode: null,
      output: EMPTY_OUTPUT,
      timings: { receivedAt: context.receivedAt.toISOString(), finishedAt: now.toISOString() },
      error: { code, message: clip(message) },
    },
    context,
  );
}

/** A built-in (ping, describe) that succeeded without spawning anything. */
export function builtInResult(
  context: ResultContext,
  stdout: string,
  startedAt: Date,
  finishedAt: Date,
): Result {
  return withContext(
    {
      kind: 'result',
      commandId: context.commandId,
      agentId: context.agentId,
      outcome: 'succeeded',
      exitCode: 0,
      output: stdout === '' ? EMPTY_OUTPUT : fitOutput({ stdout, stderr: '', truncated: false }),
      timings: {
        receivedAt: context.receivedAt.toISOString(),
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()),
      },
    },
    context,
  );
}

/** The result of a run, from the runner's outcome. */
export function runResult(context: ResultContext, run: RunOutcome): Result {
  const startedAt = run.startedAt;

  return withContext(
    {
      kind: 'result',
      commandId: context.commandId,
      agentId: context.agentId,
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
    },
    context,
  );
}

/** For a command the journal shows as started but never finished: the agent died under it. */
export function interruptedResult(context: ResultContext, now = new Date()): Result {
  return withContext(
    {
      kind: 'result',
      commandId: context.commandId,
      agentId: context.agentId,
      outcome: 'interrupted',
      exitCode: null,
      output: EMPTY_OUTPUT,
      timings: { receivedAt: context.receivedAt.toISOString(), finishedAt: now.toISOString() },
      error: {
        code: 'interrupted',
        message: 'the agent stopped (crash or kill) while this command ran; it was not run again',
      },
    },
    context,
  );
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
