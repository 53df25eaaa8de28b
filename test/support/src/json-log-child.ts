import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A pino line as the agent and the auth-service write them. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Generous for a busy 2-core machine: a wait that runs out is a failure, not a retry. */
const LOG_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 20_000;

/**
 * A daemon in its own process whose stdout and stderr are kept line by line, the JSON ones also
 * parsed, so a test can wait on what it logged and deliver real signals to it.
 */
export class JsonLogChild {
  /** Every line of stdout and stderr, as printed. */
  readonly lines: string[] = [];
  /** The lines that were JSON objects, in order. */
  readonly logs: LogLine[] = [];
  readonly exited: Promise<ChildExit>;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();

  constructor(command: string, args: readonly string[], env: Readonly<Record<string, string>>) {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env } });
    this.#child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const onLine = (line: string): void => {
      this.lines.push(line);
      const parsed = parseLogLine(line);

      if (parsed !== undefined) {
        this.logs.push(parsed);
      }

      for (const wake of this.#waiters) {
        wake();
      }
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /**
   * Resolves with the first log line, from the start, that matches. Rejects when the process
   * exits first or the time runs out, with the last lines it printed, which usually say why.
   */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = LOG_TIMEOUT_MS): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.logs.find(match);

        if (found !== undefined) {
          cleanup();
          resolve(found);
          return true;
        }

        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line in ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      const onExit = (): void => {
        if (!check()) {
          cleanup();
          reject(new Error(`the process exited before the log line:\n${this.tail()}`));
        }
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        this.#child.off('exit', onExit);
      };
      const wake = (): void => void check();

      this.#waiters.add(wake);
      this.#child.once('exit', onExit);
      check();
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Waits for exit; a child that hangs is killed so no test leaks a process. */
  async waitForExit(): Promise<ChildExit> {
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), EXIT_TIMEOUT_MS);

    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Teardown: `signal` if still running (SIGKILL after the exit timeout). */
  async dispose(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.running) {
      this.#child.kill(signal);
      await this.waitForExit();
    }
  }

  tail(count = 20): string {
    return this.lines.slice(-count).join('\n');
  }
}

function parseLogLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) {
    return undefined;
  }

  try {
    const value: unknown = JSON.parse(line);

    return typeof value === 'object' && value !== null ? (value as LogLine) : undefined;
  } catch {
    // A start-up error or a stack trace: kept in `lines` only.
    return undefined;
  }
}
