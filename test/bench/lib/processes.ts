import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadPlan, LoadReport } from './http-loadgen.js';

const START_TIMEOUT_MS = 30_000;

export interface ForkedServer {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The compiled sibling of a benchmark module (benchmarks run from dist). */
export function benchScript(relative: string): string {
  return fileURLToPath(new URL(relative, import.meta.url));
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
  });
}

/** Forks a server script that reports `{ port }` over IPC once it listens. */
export async function forkServer(
  script: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ForkedServer> {
  const child = fork(script, [...args], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), START_TIMEOUT_MS);
    child.once('message', (message: { port?: number }) => {
      clearTimeout(timer);
      resolve(message.port ?? 0);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}`));
    });
  });

  return {
    port,
    pid: child.pid ?? 0,
    stop: async () => {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/** Runs one load plan in a separate load-generator process and returns its report. */
export async function runLoadInChild(plan: LoadPlan): Promise<LoadReport> {
  const child = fork(benchScript('./http-loadgen.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  const report = new Promise<LoadReport>((resolve, reject) => {
    child.once('message', (message) => resolve(message as LoadReport));
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`load generator exited with ${code}`));
      }
    });
  });
  child.send(plan);

  const result = await report;
  await exited(child);

  return result;
}
