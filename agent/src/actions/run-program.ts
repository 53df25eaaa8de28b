import type { Output } from '@beckon/shared';
import type { execa as Execa } from 'execa';
import type { Logger } from 'pino';
import { BoundedOutput } from './bounded-output.js';
import { buildEnv } from './build-env.js';
import { resultError } from './outcomes.js';
import { terminateGroup, liveGroupMembers, type Termination } from './process-group.js';
import { ProgressRelay, type OutputStream } from './progress-relay.js';
import type { RunAs } from './resolve-accounts.js';
import { isShutdownReason } from './stop-reasons.js';
import { actionTimeoutMs } from './timeouts.js';
import type { RunOutcome, RunRequest } from './types.js';

/**
 * Once the program and its process group are gone, how long its pipes may stay open. Only a
 * process that left the group (setsid) can still hold them; the run does not wait on it.
 */
export const PIPE_CLOSE_WAIT_MS = 1_000;

export interface ProgramContext {
  readonly logger: Logger;
  readonly killGraceMs: number;
  readonly runAs?: RunAs | undefined;
}

type StopReason = 'timeout' | 'cancel' | 'shutdown';

type ExecaFunction = typeof Execa;

let loading: Promise<ExecaFunction> | undefined;

// execa and its dependencies hold about 4 MiB of an otherwise idle agent's memory: load them
// on the first spawned action, not at start-up. A failed load is retried on the next run.
function loadExeca(): Promise<ExecaFunction> {
  loading ??= import('execa').then(
    (module) => module.execa,
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );

  return loading;
}

// The return type is inferred: execa types the subprocess from these exact options.
function spawnProgram(
  execa: ExecaFunction,
  request: RunRequest,
  argv: readonly string[],
  runAs?: RunAs,
) {
  const [file = '', ...args] = argv;
  const { action } = request;

  return execa(file, args, {
    shell: false,
    cwd: action.cwd,
    env: buildEnv(action),
    extendEnv: false,
    // Its own session and process group, so that termination reaches every descendant.
    detached: true,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    ...(runAs?.uid === undefined ? {} : { uid: runAs.uid }),
    ...(runAs === undefined ? {} : { gid: runAs.gid }),
  });
}

type Subprocess = ReturnType<typeof spawnProgram>;

/** Whether execa has been loaded into this process (for the footprint test). */
export function execaLoaded(): boolean {
  return loading !== undefined;
}

/**
 * One started program: captures its output, enforces its timeout, honours the abort signal,
 * and makes sure nothing of its process group outlives it.
 */
class ProgramRun {
  readonly #request: RunRequest;
  readonly #argv: readonly string[];
  readonly #context: ProgramContext;
  readonly #log: Logger;
  readonly #output: Record<OutputStream, BoundedOutput>;
  readonly #progress: ProgressRelay | undefined;
  #subprocess: Subprocess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopReason: StopReason | undefined;
  #termination: Promise<Termination | undefined> | undefined;
  #exited = false;

  constructor(request: RunRequest, argv: readonly string[], context: ProgramContext) {
    this.#request = request;
    this.#argv = argv;
    this.#context = context;
    this.#log = context.logger.child({ commandId: request.commandId, action: request.actionName });
    this.#output = {
      stdout: new BoundedOutput(request.action.maxOutputBytes),
      stderr: new BoundedOutput(request.action.maxOutputBytes),
    };
    this.#progress =
      request.onProgress === undefined
        ? undefined
        : new ProgressRelay(request.onProgress, (err: unknown) => {
            this.#log.error({ err }, 'progress listener failed');
          });
  }

  async run(): Promise<RunOutcome> {
    const startedAt = new Date();
    const onAbort = () => {
      this.#stop(isShutdownReason(this.#request.signal.reason) ? 'shutdown' : 'cancel');
    };

    try {
      const execa = await loadExeca();
      const subprocess = spawnProgram(execa, this.#request, this.#argv, this.#context.runAs);
      this.#subprocess = subprocess;

      if (subprocess.pid === undefined) {
        return await this.#spawnFailed(subprocess, startedAt);
      }

      this.#log.debug({ programPid: subprocess.pid }, 'action spawned');
      subprocess.stdout.on('data', (chunk: Uint8Array) => {
        this.#capture('stdout', chunk);
      });
      subprocess.stderr.on('data', (chunk: Uint8Array) => {
        this.#capture('stderr', chunk);
      });
      const exited = new Promise<void>((resolve) => {
        subprocess.once('exit', () => {
          this.#onExit(subprocess.pid);
          resolve();
        });
      });

      const timeoutMs = actionTimeoutMs(this.#request.action);
      this.#timer = setTimeout(() => {
        this.#stop('timeout');
      }, timeoutMs);
      this.#request.signal.addEventListener('abort', onAbort, { once: true });

      if (this.#request.signal.aborted) {
        onAbort();
      }

      const result = await this.#settle(subprocess, exited);

      return this.#outcome(startedAt, result.exitCode ?? null, result.signal ?? null);
    } finally {
      clearTimeout(this.#timer);
      this.#request.signal.removeEventListener('abort', onAbort);
      this.#progress?.close();
    }
  }

  #capture(stream: OutputStream, chunk: Uint8Array): void {
    const kept = this.#output[stream].append(chunk);
    this.#progress?.push(stream, kept);
  }

  #stop(reason: StopReason): void {
    const pid = this.#subprocess?.pid;

    if (this.#exited || this.#stopReason !== undefined || pid === undefined) {
      return;
    }

    this.#stopReason = reason;
    this.#log.info({ programPid: pid, reason }, 'stopping action');
    this.#termination = this.#terminate(pid);
  }

  // The program ended by itself: anything it left running in its group goes too.
  #onExit(pid: number | undefined): void {
    this.#exited = true;
    clearTimeout(this.#timer);

    if (this.#termination !== undefined || pid === undefined) {
      return;
    }

    this.#termination = this.#endLeftovers(pid);
  }

  async #endLeftovers(pgid: number): Promise<Termination | undefined> {
    let left: number[];

    try {
      left = await liveGroupMembers(pgid);
    } catch (err) {
      this.#log.error({ err, processGroup: pgid }, 'cannot inspect process group');

      return undefined;
    }

    if (left.length === 0) {
      return undefined;
    }

    this.#log.warn({ pids: left }, 'action left processes behind');

    return this.#terminate(pgid);
  }

  async #terminate(pgid: number): Promise<Termination | undefined> {
    try {
      const termination = await terminateGroup(pgid, this.#context.killGraceMs);

      if (termination.survivors.length > 0) {
        this.#log.error({ pids: termination.survivors }, 'processes survived sigkill');
      }

      return termination;
    } catch (err) {
      this.#log.error({ err, processGroup: pgid }, 'cannot terminate process group');

      return undefined;
    }
  }

  // Waits for the program, its group and its pipes; a pipe held open by a process that
  // escaped the group is closed from this side rather than waited on.
  async #settle(subprocess: Subprocess, exited: Promise<void>) {
    let settled = false;
    let pipeTimer: NodeJS.Timeout | undefined;

    void exited
      .then(() => this.#termination)
      .then(() => {
        if (!settled) {
          pipeTimer = setTimeout(() => {
            this.#log.warn({}, 'action pipes held open after exit');
            subprocess.stdout.destroy();
            subprocess.stderr.destroy();
          }, PIPE_CLOSE_WAIT_MS);
        }
      });

    try {
      const result = await subprocess;
      await this.#termination;

      return result;
    } finally {
      settled = true;
      clearTimeout(pipeTimer);
    }
  }

  async #spawnFailed(subprocess: Subprocess, startedAt: Date): Promise<RunOutcome> {
    const result = await subprocess;
    const code = ('code' in result ? result.code : undefined) ?? 'unknown error';
    const [file = ''] = this.#argv;
    this.#log.warn({ code }, 'action spawn failed');

    return {
      outcome: 'failed',
      exitCode: null,
      signal: null,
      output: this.#collect(),
      startedAt,
      finishedAt: new Date(),
      error: resultError(
        'spawn_failed',
        `cannot start ${file} in ${this.#request.action.cwd}: ${code}`,
      ),
    };
  }

  #collect(): Output {
    const stdout = this.#output.stdout.text();
    const stderr = this.#output.stderr.text();

    return {
      stdout: stdout.text,
      stderr: stderr.text,
      truncated: stdout.truncated || stderr.truncated,
    };
  }

  #outcome(startedAt: Date, exitCode: number | null, signal: string | null): RunOutcome {
    const base = { exitCode, signal, output: this.#collect(), startedAt, finishedAt: new Date() };
    const timeoutSeconds = this.#request.action.timeoutSeconds;

    switch (this.#stopReason) {
      case 'timeout':
        return {
          ...base,
          outcome: 'timed-out',
          error: resultError('timed_out', `ran longer than ${timeoutSeconds} s`),
        };
      case 'cancel':
        return { ...base, outcome: 'cancelled', error: resultError('cancelled', 'cancelled') };
      case 'shutdown':
        return {
          ...base,
          outcome: 'interrupted',
          error: resultError('interrupted', 'stopped because the agent is shutting down'),
        };
      case undefined:
        break;
    }

    if (exitCode === 0) {
      return { ...base, outcome: 'succeeded' };
    }

    const how =
      exitCode === null ? `was ended by ${signal ?? 'a signal'}` : `exited with ${exitCode}`;

    return {
      ...base,
      outcome: 'failed',
      error: resultError('non_zero_exit', `the program ${how}`),
    };
  }
}

/** Runs one program to its end; resolves with how it ended. */
export function runProgram(
  request: RunRequest,
  argv: readonly string[],
  context: ProgramContext,
): Promise<RunOutcome> {
  return new ProgramRun(request, argv, context).run();
}
