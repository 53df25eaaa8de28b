import type { Logger } from 'pino';
import type { AgentConfig } from '../config/schema.js';
import { buildArgv, invalidArgsError } from './build-argv.js';
import { abortedBeforeStart, notStarted, resultError } from './outcomes.js';
import type { RunAs } from './resolve-accounts.js';
import { runProgram } from './run-program.js';
import type { ActionRunner, RunOutcome, RunRequest } from './types.js';

const MS_PER_SECOND = 1_000;

export interface ActionRunnerOptions {
  readonly limits: Pick<AgentConfig['limits'], 'maxConcurrent' | 'maxQueued' | 'killGraceSeconds'>;
  readonly logger: Logger;
  /** Between SIGTERM and SIGKILL of a stopped action's group; defaults to the limits' value. */
  readonly killGraceMs?: number;
  /**
   * Run-as ids from `resolveAccounts`, by action name. An action that names a user or group
   * but has no entry here is refused rather than run as the agent's own user.
   */
  readonly accounts?: ReadonlyMap<string, RunAs>;
}

interface Waiting {
  readonly request: RunRequest;
  readonly argv: readonly string[];
  readonly runAs: RunAs | undefined;
  readonly resolve: (outcome: RunOutcome) => void;
  readonly onAbort: () => void;
}

/**
 * Runs actions under the global limit (`limits.maxConcurrent`) and each action's own
 * `maxConcurrent`, keeping at most `limits.maxQueued` runs waiting. The queue is first in,
 * first out among the runs that could start: a run held back by its action's limit does not
 * block the runs of other actions behind it.
 */
class Runner implements ActionRunner {
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #killGraceMs: number;
  readonly #logger: Logger;
  readonly #accounts: ReadonlyMap<string, RunAs>;
  readonly #waiting: Waiting[] = [];
  readonly #runningByAction = new Map<string, number>();
  #running = 0;

  constructor(options: ActionRunnerOptions) {
    this.#maxConcurrent = options.limits.maxConcurrent;
    this.#maxQueued = options.limits.maxQueued;
    this.#killGraceMs = options.killGraceMs ?? options.limits.killGraceSeconds * MS_PER_SECOND;
    this.#logger = options.logger;
    this.#accounts = options.accounts ?? new Map();
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * A quick check before accepting a command: false when the queue is full. `run` decides for
   * good (an action at its own limit needs a queue place even when a global slot is free).
   */
  canAccept(): boolean {
    return this.#waiting.length < this.#maxQueued || this.#running < this.#maxConcurrent;
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    try {
      return await this.#admit(request);
    } catch (err) {
      this.#logger.error(
        { err, commandId: request.commandId, action: request.actionName },
        'action runner fault',
      );

      return notStarted(resultError('internal', 'the agent failed to run the action'));
    }
  }

  #admit(request: RunRequest): Promise<RunOutcome> | RunOutcome {
    if (request.signal.aborted) {
      return abortedBeforeStart(request.signal.reason);
    }

    const [program] = request.action.argv;

    // The config loader refuses anything else; checked again because running a program found
    // through PATH or named by a command would break the allow-list.
    if (typeof program !== 'string' || !program.startsWith('/')) {
      this.#logger.error(
        { commandId: request.commandId, action: request.actionName },
        'action program is not an absolute path',
      );

      return notStarted(resultError('internal', 'the action is misconfigured'));
    }

    const built = buildArgv(request.action, request.args);

    if (!built.ok) {
      return notStarted(invalidArgsError(built.issues));
    }

    const needsAccount = request.action.user !== undefined || request.action.group !== undefined;
    const runAs = this.#accounts.get(request.actionName);

    if (needsAccount && runAs === undefined) {
      this.#logger.error(
        { commandId: request.commandId, action: request.actionName },
        'run-as account not resolved',
      );

      return notStarted(resultError('internal', 'the run-as user was not resolved at start-up'));
    }

    if (this.#canStart(request.actionName, request.action.maxConcurrent)) {
      return this.#start(request, built.argv, runAs);
    }

    if (this.#waiting.length >= this.#maxQueued) {
      return notStarted(resultError('unavailable', 'the action queue is full'));
    }

    return this.#enqueue(request, built.argv, runAs);
  }

  #canStart(actionName: string, limit?: number): boolean {
    const perAction = limit ?? Number.POSITIVE_INFINITY;

    return (
      this.#running < this.#maxConcurrent &&
      (this.#runningByAction.get(actionName) ?? 0) < perAction
    );
  }

  #enqueue(request: RunRequest, argv: readonly string[], runAs?: RunAs): Promise<RunOutcome> {
    return new Promise((resolve) => {
      const waiting: Waiting = {
        request,
        argv,
        runAs,
        resolve,
        onAbort: () => {
          const index = this.#waiting.indexOf(waiting);

          if (index !== -1) {
            this.#waiting.splice(index, 1);
            resolve(abortedBeforeStart(request.signal.reason));
          }
        },
      };

      this.#waiting.push(waiting);
      request.signal.addEventListener('abort', waiting.onAbort, { once: true });
    });
  }

  async #start(request: RunRequest, argv: readonly string[], runAs?: RunAs): Promise<RunOutcome> {
    const { actionName, commandId } = request;
    this.#running += 1;
    this.#runningByAction.set(actionName, (this.#runningByAction.get(actionName) ?? 0) + 1);

    try {
      request.onStart?.();

      return await runProgram(request, argv, {
        logger: this.#logger,
        killGraceMs: this.#killGraceMs,
        runAs,
      });
    } catch (err) {
      this.#logger.error({ err, commandId, action: actionName }, 'action runner fault');

      return notStarted(resultError('internal', 'the agent failed to run the action'));
    } finally {
      this.#running -= 1;
      const left = (this.#runningByAction.get(actionName) ?? 1) - 1;

      if (left === 0) {
        this.#runningByAction.delete(actionName);
      } else {
        this.#runningByAction.set(actionName, left);
      }

      this.#startNext();
    }
  }

  // Starts the earliest waiting runs that the limits now allow.
  #startNext(): void {
    for (let index = 0; index < this.#waiting.length && this.#running < this.#maxConcurrent;) {
      const waiting = this.#waiting[index];

      if (waiting === undefined || !this.#canStartWaiting(waiting)) {
        index += 1;
        continue;
      }

      this.#waiting.splice(index, 1);
      waiting.request.signal.removeEventListener('abort', waiting.onAbort);
      void this.#start(waiting.request, waiting.argv, waiting.runAs).then(waiting.resolve);
    }
  }

  #canStartWaiting(waiting: Waiting): boolean {
    return this.#canStart(waiting.request.actionName, waiting.request.action.maxConcurrent);
  }
}

/** The agent's action runner; see `ActionRunner` for the contract. */
export function createActionRunner(options: ActionRunnerOptions): ActionRunner {
  return new Runner(options);
}
