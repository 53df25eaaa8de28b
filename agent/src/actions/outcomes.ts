import {
  MAX_ERROR_MESSAGE_LENGTH,
  type Output,
  type ResultError,
  type ResultErrorCode,
} from '@beckon/shared';
import { isShutdownReason } from './stop-reasons.js';
import type { RunOutcome } from './types.js';

export const EMPTY_OUTPUT: Output = Object.freeze({ stdout: '', stderr: '', truncated: false });

export function resultError(code: ResultErrorCode, message: string): ResultError {
  return { code, message: message.slice(0, MAX_ERROR_MESSAGE_LENGTH) };
}

/** A run that ended before its program started: refused, or stopped while it waited. */
export function notStarted(error: ResultError): RunOutcome {
  return {
    outcome: 'failed',
    exitCode: null,
    signal: null,
    output: EMPTY_OUTPUT,
    finishedAt: new Date(),
    error,
  };
}

/** A run aborted before its program started: by a cancel command or by shutdown. */
export function abortedBeforeStart(reason: unknown): RunOutcome {
  const shutdown = isShutdownReason(reason);

  return {
    outcome: shutdown ? 'interrupted' : 'cancelled',
    exitCode: null,
    signal: null,
    output: EMPTY_OUTPUT,
    finishedAt: new Date(),
    error: shutdown
      ? resultError('interrupted', 'the agent shut down before the action started')
      : resultError('cancelled', 'cancelled before the action started'),
  };
}
