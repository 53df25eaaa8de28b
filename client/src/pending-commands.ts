import type { Progress, Result } from '@beckon/shared';
import type { Logger } from 'pino';
import { AsyncQueue } from './async-queue.js';
import { BeckonError, errorForResult } from './errors.js';

/** Command ids given up on that are remembered, to log a late result as such. */
const MAX_ABANDONED_IDS = 1_000;

/** A result whose outcome is `succeeded`; every other outcome rejects with a BeckonError. */
export type SucceededResult = Result & { readonly outcome: 'succeeded' };

export interface TrackOptions {
  readonly id: string;
  readonly agentId: string;
  readonly action: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((chunk: Progress) => void) | undefined;
  /** Called once when the signal aborts, after the promise rejected with `aborted`. */
  readonly onAbort: () => void;
}

export interface Tracked {
  readonly result: Promise<SucceededResult>;
  readonly progress: AsyncQueue<Progress>;
}

type Outcome = { readonly result: Result } | { readonly error: BeckonError };

interface Entry {
  readonly agentId: string;
  readonly progress: AsyncQueue<Progress>;
  readonly onProgress: ((chunk: Progress) => void) | undefined;
  readonly settle: (outcome: Outcome) => void;
}

/**
 * The commands this client waits on, by id: each ends exactly once, by its result, its
 * timeout, its caller's abort or the client closing. What arrives afterwards is dropped.
 */
export class PendingCommands {
  readonly #logger: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #abandoned = new Set<string>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  agentOf(id: string): string | undefined {
    return this.#entries.get(id)?.agentId;
  }

  isPending(id: string): boolean {
    return this.#entries.has(id);
  }

  track(options: TrackOptions): Tracked {
    const { id, agentId, signal } = options;
    const log = this.#logger.child({ commandId: id, agentId, action: options.action });
    const progress = new AsyncQueue<Progress>();
    let finish: (outcome: Outcome) => void = () => undefined;

    const result = new Promise<SucceededResult>((resolve, reject) => {
      finish = (outcome) => {
        if (this.#entries.get(id)?.settle !== finish) {
          return;
        }

        this.#entries.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        progress.end();

        if ('result' in outcome && outcome.result.outcome === 'succeeded') {
          log.debug({}, 'command succeeded');
          resolve(outcome.result as SucceededResult);
          return;
        }

        const error = 'result' in outcome ? errorForResult(outcome.result) : outcome.error;

        if (error.result === undefined) {
          this.#rememberAbandoned(id);
        }

        log.debug({ code: error.code, agentCode: error.agentCode }, 'command did not succeed');
        reject(error);
      };

      const timer = setTimeout(() => {
        finish({
          error: new BeckonError(
            'timed_out',
            `no result from agent ${agentId} in ${options.timeoutMs} ms`,
            { commandId: id, agentId },
          ),
        });
      }, options.timeoutMs);
      const onAbort = (): void => {
        finish({
          error: new BeckonError('aborted', 'the caller stopped waiting for the result', {
            commandId: id,
            agentId,
            cause: signal?.reason,
          }),
        });
        options.onAbort();
      };

      this.#entries.set(id, { agentId, progress, onProgress: options.onProgress, settle: finish });

      if (signal?.aborted === true) {
        onAbort();
      } else {
        signal?.addEventListener('abort', onAbort, { once: true });
      }
    });
    // A caller who only reads `progress` must not get an unhandled rejection.
    result.catch(() => undefined);

    return { result, progress };
  }

  /** Ends a pending command with an error (publishing failed, client closed). */
  fail(id: string, error: BeckonError): void {
    this.#entries.get(id)?.settle({ error });
  }

  failAll(errorFor: (id: string, agentId: string) => BeckonError): void {
    for (const [id, entry] of [...this.#entries]) {
      entry.settle({ error: errorFor(id, entry.agentId) });
    }
  }

  /** Takes a result that was already parsed and checked against its topic. */
  onResult(result: Result): void {
    const entry = result.commandId === null ? undefined : this.#entries.get(result.commandId);
    const log = this.#logger.child({ commandId: result.commandId, agentId: result.agentId });

    if (entry === undefined || entry.agentId !== result.agentId) {
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

    entry.settle({ result });
  }

  onProgress(chunk: Progress): void {
    const entry = this.#entries.get(chunk.commandId);

    if (entry === undefined || entry.agentId !== chunk.agentId) {
      return;
    }

    if (entry.onProgress === undefined) {
      entry.progress.push(chunk);
      return;
    }

    try {
      entry.onProgress(chunk);
    } catch (error) {
      this.#logger.warn(
        { err: error, commandId: chunk.commandId, agentId: chunk.agentId },
        'onProgress callback threw',
      );
    }
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
}
