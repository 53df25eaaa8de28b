import { setMaxListeners } from 'node:events';
import type { Result } from '@beckon/shared';
import type { Logger } from 'pino';
import { BeckonError, invalidArgument } from './errors.js';

export const DEFAULT_CONCURRENCY = 10;
const LISTENERS_PER_SEND = 2;
export const MAX_CONCURRENCY = 1_000;

/** Stop launching once errors exceed a count (`5`) or a share of the targets (`'10%'`). */
export type MaxErrors = number | `${number}%`;

/** One agent's part in a fan-out. */
export interface AgentOutcome {
  readonly agentId: string;
  /** `not-sent`: skipped because the error threshold was passed or the caller aborted. */
  readonly status: 'succeeded' | 'failed' | 'not-sent';
  readonly result?: Result;
  readonly error?: BeckonError;
}

export interface FanOutProgress {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly inFlight: number;
  /** The outcome that caused this report. */
  readonly latest: AgentOutcome;
}

export interface FanOutReport {
  readonly outcomes: readonly AgentOutcome[];
  readonly succeeded: number;
  readonly failed: number;
  readonly notSent: number;
  /** True when the error threshold (or an abort) stopped new sends. */
  readonly stopped: boolean;
}

export interface FanOutOptions {
  readonly concurrency?: number;
  readonly maxErrors?: MaxErrors;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: FanOutProgress) => void;
}

/** How many errors are tolerated before no new send starts; Infinity without a limit. */
export function errorAllowance(maxErrors: MaxErrors | undefined, total: number): number {
  if (maxErrors === undefined) {
    return Number.POSITIVE_INFINITY;
  }

  if (typeof maxErrors === 'number') {
    if (!Number.isInteger(maxErrors) || maxErrors < 0) {
      throw invalidArgument('options.maxErrors', `must be a count >= 0 or a percentage like "10%"`);
    }

    return maxErrors;
  }

  const match = /^(\d{1,3}(?:\.\d+)?)%$/.exec(maxErrors);
  const percent = match?.[1] === undefined ? Number.NaN : Number(match[1]);

  if (Number.isNaN(percent) || percent > 100) {
    throw invalidArgument(
      'options.maxErrors',
      `must be a count >= 0 or a percentage like "10%", got ${JSON.stringify(maxErrors)}`,
    );
  }

  return Math.floor((total * percent) / 100);
}

function describeValue(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string'
    ? JSON.stringify(value)
    : typeof value;
}

export function checkConcurrency(concurrency: unknown): number {
  if (concurrency === undefined) {
    return DEFAULT_CONCURRENCY;
  }

  if (
    typeof concurrency !== 'number' ||
    !Number.isInteger(concurrency) ||
    concurrency < 1 ||
    concurrency > MAX_CONCURRENCY
  ) {
    throw invalidArgument(
      'options.concurrency',
      `must be an integer from 1 to ${MAX_CONCURRENCY}, got ${describeValue(concurrency)}`,
    );
  }

  return concurrency;
}

/**
 * Sends to every agent with at most `concurrency` in flight (what SSM calls max concurrency),
 * and starts no new send once the errors exceed the allowance (SSM's max errors). Sends in
 * flight then still finish; the rest are reported `not-sent`.
 */
export async function fanOut(
  agents: readonly string[],
  sendOne: (agentId: string, signal: AbortSignal) => Promise<Result>,
  options: FanOutOptions,
  logger: Logger,
): Promise<FanOutReport> {
  const concurrency = checkConcurrency(options.concurrency);
  const allowance = errorAllowance(options.maxErrors, agents.length);
  const outcomes = new Array<AgentOutcome | undefined>(agents.length);
  // Aborting the fan-out aborts the sends in flight too.
  const inFlightAbort = new AbortController();
  // Each send in flight listens on this signal while it waits for the session and for its
  // result; Node's default warning at 11 listeners would fire for any concurrency above 5.
  setMaxListeners(LISTENERS_PER_SEND * concurrency + 1, inFlightAbort.signal);
  const onAbort = (): void => {
    inFlightAbort.abort(options.signal?.reason);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let next = 0;
  let succeeded = 0;
  let failed = 0;
  let inFlight = 0;
  let stopped = false;

  const record = (index: number, outcome: AgentOutcome): void => {
    outcomes[index] = outcome;

    // A throwing callback must not turn a succeeded send into a failed one.
    try {
      options.onProgress?.({ total: agents.length, succeeded, failed, inFlight, latest: outcome });
    } catch (error) {
      logger.warn({ err: error, agentId: outcome.agentId }, 'sendMany onProgress threw');
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (failed > allowance || options.signal?.aborted === true) {
        stopped = true;
        return;
      }

      const index = next;
      next += 1;
      const agentId = agents[index];

      if (agentId === undefined) {
        return;
      }

      inFlight += 1;

      try {
        const result = await sendOne(agentId, inFlightAbort.signal);
        succeeded += 1;
        inFlight -= 1;
        record(index, { agentId, status: 'succeeded', result });
      } catch (error) {
        const beckonError =
          error instanceof BeckonError
            ? error
            : new BeckonError('failed', 'the send failed', { agentId, cause: error });
        failed += 1;
        inFlight -= 1;
        record(index, {
          agentId,
          status: 'failed',
          error: beckonError,
          ...(beckonError.result === undefined ? {} : { result: beckonError.result }),
        });
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, agents.length) }, worker));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }

  const complete = agents.map(
    (agentId, index): AgentOutcome => outcomes[index] ?? { agentId, status: 'not-sent' },
  );

  return {
    outcomes: complete,
    succeeded,
    failed,
    notSent: complete.filter((outcome) => outcome.status === 'not-sent').length,
    stopped,
  };
}
