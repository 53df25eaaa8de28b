import type { Args, Output, ResultError } from '@beckon/shared';
import type { ActionConfig } from '../config/schema.js';

// The seam between the command pipeline (which decides whether to run) and the runner (which
// runs). The pipeline hands over only validated, verified requests.

export interface RunRequest {
  readonly commandId: string;
  readonly actionName: string;
  readonly action: ActionConfig;
  /** Already validated against the action's declared argument types. */
  readonly args: Args;
  /** Aborted by a cancel command or by shutdown; the run then ends as `cancelled`/`interrupted`. */
  readonly signal: AbortSignal;
  /** Present when the command asked for progress: called with each chunk of output. */
  readonly onProgress?: (chunk: {
    readonly stream: 'stdout' | 'stderr';
    readonly data: string;
  }) => void;
  /** Called once the run leaves the queue and the program is about to start. */
  readonly onStart?: () => void;
}

/** How one run ended; the pipeline turns it into a `result` message. */
export interface RunOutcome {
  readonly outcome: 'succeeded' | 'failed' | 'timed-out' | 'cancelled' | 'interrupted';
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly output: Output;
  /** Undefined when the run never left the queue. */
  readonly startedAt?: Date;
  readonly finishedAt: Date;
  readonly error?: ResultError;
}

export interface ActionRunner {
  /** Queues the run (global and per-action concurrency) and resolves when it ends; never rejects. */
  run(request: RunRequest): Promise<RunOutcome>;
  /** Runs started and not yet finished, and runs waiting in the queue. */
  readonly running: number;
  readonly queued: number;
  /** False when the queue is full; the pipeline then answers `unavailable`. */
  canAccept(): boolean;
}
