import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SERVICE_NODE_FLAGS } from '@beckon/auth-service';

/** Seeding a 10,000-agent directory into a new process can take a while on a busy machine. */
const START_TIMEOUT_MS = 120_000;
/** Set to a folder to get a V8 CPU profile of every system-under-test process (--cpu-prof). */
const CPU_PROF_ENV = 'BECKON_BENCH_CPU_PROF';
/**
 * Space-separated Node/V8 flags for the auth-service under test, after the ones it is deployed
 * with (a later V8 flag wins, so `--heap-growing-percent=0` measures V8's default).
 */
const SERVICE_FLAGS_ENV = 'BECKON_BENCH_SERVICE_FLAGS';

export interface ForkedServer {
  readonly port: number;
  readonly pid: number;
  /** Everything the server reported when it was ready. */
  readonly info: Readonly<Record<string, unknown>>;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** The compiled sibling of a benchmark module (benchmarks run from dist). */
export function benchScript(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
  });
}

/** `--cpu-prof` flags for a system under test, when profiling was asked for. */
export function profileArgs(label: string): string[] {
  const folder = process.env[CPU_PROF_ENV];

  return folder === undefined || folder === ''
    ? []
    : [
        '--cpu-prof',
        `--cpu-prof-dir=${folder}`,
        `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`,
      ];
}

function serviceFlags(): string[] {
  return (process.env[SERVICE_FLAGS_ENV] ?? '').split(' ').filter((flag) => flag !== '');
}

export interface ForkOptions {
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Names the process's CPU profile; the process is profiled only when this is set. */
  readonly profileAs?: string;
  readonly execArgv?: readonly string[];
}

/** Forks a script that reports `{ port, ... }` over IPC once it is ready. */
export async function forkServer(script: string, options: ForkOptions = {}): Promise<ForkedServer> {
  const child = fork(benchScript(script), [...(options.args ?? [])], {
    env: options.env ?? process.env,
    execArgv: [
      ...(options.execArgv ?? []),
      ...(options.profileAs === undefined ? [] : profileArgs(options.profileAs)),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    };
    child.once('message', (message: Record<string, unknown>) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(message);
    });
    child.once('exit', onExit);
  });

  return {
    port: typeof info['port'] === 'number' ? info['port'] : 0,
    pid: child.pid ?? 0,
    info,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
      }
      await exited(child);
    },
  };
}

/** Sends one request to a forked helper and resolves with its next message. */
export function ask<T>(child: ChildProcess, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`helper process exited with ${code} before it answered`));
    };
    const onMessage = (message: unknown): void => {
      child.off('exit', onExit);
      resolve(message as T);
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
    child.send(request as object);
  });
}

/** The auth-service from a config file, with the Node flags its image runs it with. */
export function forkAuthService(configPath: string, profileAs?: string): Promise<ForkedServer> {
  return forkServer('servers/auth-service.js', {
    args: [configPath],
    execArgv: [...SERVICE_NODE_FLAGS, ...serviceFlags()],
    ...(profileAs === undefined ? {} : { profileAs }),
  });
}
