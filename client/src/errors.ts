import type { Result, ResultErrorCode } from '@beckon/shared';

/**
 * Why a client call did not give the caller a succeeded result. A closed set: callers branch on
 * `code`, the message is for humans.
 */
export const ERROR_CODES = [
  // no broker session: never connected, or the client was closed
  'not_connected',
  // the broker or the auth-service refused the app's credentials
  'not_authorised',
  // no result arrived within the caller's timeout
  'timed_out',
  // the caller's AbortSignal fired before a result arrived
  'aborted',
  // the agent refused the command; `agentCode` says why
  'rejected',
  // the command reached the agent after its expiresAt
  'expired',
  // the action ran and did not succeed (non-zero exit, spawn failure, interrupted, cancelled)
  'failed',
  // no certified credential from the auth-service, so nothing can be signed
  'credential_unavailable',
  // a public function was called with an argument it cannot accept; `argument` names it
  'invalid_arguments',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface BeckonErrorDetails {
  readonly cause?: unknown;
  readonly commandId?: string;
  readonly agentId?: string;
  /** The argument (or env var, or flag) that was refused, for `invalid_arguments`. */
  readonly argument?: string;
  /** The agent's own error code, when a result carried one. */
  readonly agentCode?: ResultErrorCode;
  /** The agent's result, when one arrived. */
  readonly result?: Result;
}

/** The only error type the client's public functions reject with. */
export class BeckonError extends Error {
  override readonly name = 'BeckonError';
  readonly code: ErrorCode;
  readonly commandId: string | undefined;
  readonly agentId: string | undefined;
  readonly argument: string | undefined;
  readonly agentCode: ResultErrorCode | undefined;
  readonly result: Result | undefined;

  constructor(code: ErrorCode, message: string, details: BeckonErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.commandId = details.commandId;
    this.agentId = details.agentId;
    this.argument = details.argument;
    this.agentCode = details.agentCode;
    this.result = details.result;
  }
}

export function isBeckonError(value: unknown, code?: ErrorCode): value is BeckonError {
  return value instanceof BeckonError && (code === undefined || value.code === code);
}

/** An argument error that names the argument, the expected form and what was received. */
export function invalidArgument(argument: string, message: string): BeckonError {
  return new BeckonError('invalid_arguments', `${argument} ${message}`, { argument });
}

// Maps a result that did not succeed onto the client's codes, keeping the agent's own code.
export function errorForResult(result: Result): BeckonError {
  const details = {
    result,
    agentId: result.agentId,
    ...(result.commandId === null ? {} : { commandId: result.commandId }),
    ...(result.error === undefined ? {} : { agentCode: result.error.code }),
  };
  const reason = result.error === undefined ? '' : `: ${result.error.message}`;

  switch (result.outcome) {
    case 'succeeded':
      throw new TypeError('a succeeded result is not an error');
    case 'rejected':
      return new BeckonError(
        'rejected',
        `agent ${result.agentId} rejected the command ` +
          `(${result.error?.code ?? 'no code'})${reason}`,
        details,
      );
    case 'expired':
      return new BeckonError(
        'expired',
        `the command reached agent ${result.agentId} after it expired${reason}`,
        details,
      );
    case 'timed-out':
      return new BeckonError(
        'timed_out',
        `the action ran past its timeout on agent ${result.agentId}${reason}`,
        details,
      );
    case 'failed':
    case 'interrupted':
    case 'cancelled':
      return new BeckonError(
        'failed',
        `the action ${result.outcome} on agent ${result.agentId}` +
          `${exitDescription(result)}${reason}`,
        details,
      );
  }
}

function exitDescription(result: Result): string {
  if (result.exitCode !== null) {
    return ` (exit code ${result.exitCode})`;
  }

  if (result.signal !== undefined && result.signal !== null) {
    return ` (signal ${result.signal})`;
  }

  return '';
}
