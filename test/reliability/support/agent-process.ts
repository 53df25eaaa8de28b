import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ActionsInput, EnrolledAgent } from '../../harness/agent.js';
import { REPO_ROOT } from './paths.js';

const AGENT_CLI = join(REPO_ROOT, 'agent', 'dist', 'cli.js');
const EXIT_TIMEOUT_MS = 20_000;

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** When a line was logged, in epoch ms (the agent logs ISO timestamps). */
export function logTime(line: LogLine): number {
  return typeof line['time'] === 'number' ? line['time'] : Date.parse(String(line['time']));
}

export interface AgentFileOptions {
  readonly brokerUrl: string;
  readonly protocolVersion?: 4 | 5;
  readonly actions?: ActionsInput;
  readonly logLevel?: string;
  readonly authUrl?: string;
}

/** Writes the YAML (JSON is YAML) an installer would write next to the enrolled credentials. */
export async function writeAgentFile(
  enrolled: EnrolledAgent,
  options: AgentFileOptions,
): Promise<string> {
  const path = join(enrolled.dir, 'agent.yaml');
  const config = {
    broker: { url: options.brokerUrl, protocolVersion: options.protocolVersion ?? 4 },
    credentialsFile: enrolled.credentialsFile,
    stateDir: join(enrolled.dir, 'state'),
    limits: { shutdownGraceSeconds: 5, killGraceSeconds: 1 },
    logLevel: options.logLevel ?? 'info',
    ...(options.authUrl === undefined ? {} : { authUrl: options.authUrl }),
    actions: options.actions ?? {},
  };
  await writeFile(path, JSON.stringify(config, null, 2));

  return path;
}

/**
 * `beckon-agent run --config FILE` (the built CLI, production runner and backoff) in its own
 * process, as systemd runs it; its JSON log lines are kept.
 */
export class AgentCliProcess {
  readonly lines: string[] = [];
  readonly logs: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();

  constructor(configPath: string) {
    const child = spawn(process.execPath, [AGENT_CLI, 'run', '--config', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    });
    this.#child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const onLine = (line: string): void => {
      this.lines.push(line);

      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        // Not JSON (a start-up error on stderr): kept in `lines` only.
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

  /** Resolves with the first log line (from the start) that matches; rejects on exit. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
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
        reject(new Error(`no matching agent log line in ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      const onExit = (): void => {
        if (!check()) {
          cleanup();
          reject(new Error(`the agent exited before the log line:\n${this.tail()}`));
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
  async waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), EXIT_TIMEOUT_MS);

    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Teardown: SIGTERM, then SIGKILL if it does not go. */
  async dispose(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      await this.waitForExit();
    }
  }

  tail(count = 20): string {
    return this.lines.slice(-count).join('\n');
  }
}
