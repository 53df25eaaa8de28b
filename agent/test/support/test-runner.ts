import type { ActionDescriptor } from '@beckon/shared';
import type { ActionRunner, RunOutcome, RunRequest } from '../../src/actions/types.js';
import type { AgentConfig } from '../../src/config/schema.js';

// A real, small ActionRunner for the daemon's tests; the production runner (execa, process
// groups, queue) is built separately. What a run does is read from the action's program path:
//   /test/echo {arg}  succeeds, printing the argument (and streaming it as progress)
//   /test/fail        fails with exit code 3
//   /test/hang        runs until aborted
//   /test/broken      rejects, breaking the runner's promise never to
// Anything else fails as if the program could not be started.

export interface TestRunnerOptions {
  /** How many runs may be in progress before canAccept() says no. */
  readonly capacity?: number;
}

export class TestRunner implements ActionRunner {
  readonly requests: RunRequest[] = [];
  readonly #capacity: number;
  readonly #started = new Set<string>();
  readonly #waiters = new Set<() => void>();
  #running = 0;

  constructor(options: TestRunnerOptions = {}) {
    this.#capacity = options.capacity ?? Number.POSITIVE_INFINITY;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return 0;
  }

  canAccept(): boolean {
    return this.#running < this.#capacity;
  }

  /** How many times a command id was handed to the runner. */
  timesRun(commandId: string): number {
    return this.requests.filter((request) => request.commandId === commandId).length;
  }

  /** Resolves once a run of `commandId` has started. */
  async started(commandId: string): Promise<void> {
    while (!this.#started.has(commandId)) {
      await new Promise<void>((resolve) => this.#waiters.add(resolve));
    }
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    this.requests.push(request);
    this.#running += 1;

    try {
      const startedAt = new Date();
      request.onStart?.();
      this.#started.add(request.commandId);
      this.#waiters.forEach((wake) => wake());
      this.#waiters.clear();

      return await this.#behave(request, startedAt);
    } finally {
      this.#running -= 1;
    }
  }

  async #behave(request: RunRequest, startedAt: Date): Promise<RunOutcome> {
    const [first] = request.action.argv;
    const program = typeof first === 'string' ? first : '';

    switch (program) {
      case '/test/echo': {
        const text = Object.values(request.args).map(String).join(' ');
        request.onProgress?.({ stream: 'stdout', data: text });

        return finished('succeeded', 0, text, startedAt);
      }
      case '/test/fail':
        return {
          ...finished('failed', 3, '', startedAt),
          error: { code: 'non_zero_exit', message: 'exited with code 3' },
        };
      case '/test/broken':
        throw new Error('the runner broke');
      case '/test/hang': {
        await new Promise<void>((resolve) => {
          if (request.signal.aborted) {
            resolve();
          }

          request.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        const outcome = request.signal.reason === 'cancelled' ? 'cancelled' : 'interrupted';

        return { ...finished(outcome, null, '', startedAt), signal: 'SIGTERM' };
      }
      default:
        return {
          outcome: 'failed',
          exitCode: null,
          signal: null,
          output: { stdout: '', stderr: '', truncated: false },
          finishedAt: new Date(),
          error: { code: 'spawn_failed', message: `no test behaviour for ${program}` },
        };
    }
  }
}

function finished(
  outcome: RunOutcome['outcome'],
  exitCode: number | null,
  stdout: string,
  startedAt: Date,
): RunOutcome {
  return {
    outcome,
    exitCode,
    signal: null,
    output: { stdout, stderr: '', truncated: false },
    startedAt,
    finishedAt: new Date(),
  };
}

/** A minimal catalogue of the configured actions, standing in for the runner half's. */
export function testCatalogue(config: Readonly<AgentConfig>): ActionDescriptor[] {
  return Object.entries(config.actions).map(([name, action]) => ({
    name,
    description: action.description,
    args: action.args,
    timeoutMs: action.timeoutSeconds * 1_000,
  }));
}
