import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';

const MOSQUITTO_BIN = process.env['BECKON_TEST_MOSQUITTO'] ?? '/usr/sbin/mosquitto';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 25;

export interface MosquittoOptions {
  /** Extra mosquitto.conf lines, e.g. `password_file ...` with `allow_anonymous false`. */
  readonly extraConfig?: readonly string[];
  /** Keep sessions and queued messages across restarts (persistence in a temp folder). */
  readonly persistence?: boolean;
  /** Defaults to anonymous access for transport tests. */
  readonly allowAnonymous?: boolean;
  /**
   * The broker's open-files limit (`ulimit -n`), for tests that hold more clients than the
   * default 1,024 descriptors allow: each client is one (PERFORMANCE.md).
   */
  readonly openFiles?: number;
}

export interface RunningMosquitto {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** The broker's process id while it runs. */
  pid(): number | undefined;
  /** Everything the broker wrote to stderr so far (its log). */
  log(): string;
  /** Stops the broker as a crash would not: SIGTERM, so persistence is written. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same config and persistence folder. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it for good and removes its folder. */
  dispose(): Promise<void>;
}

/** True when something accepts TCP connections on 127.0.0.1:`port` now. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts a real Mosquitto (Debian's) on a free port with its own config, for tests. It sets
 * `set_tcp_nodelay true` as Beckon's shipped config does (see PERFORMANCE.md on Nagle) and
 * `user root` so that it keeps access to its temp folder after start-up.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<RunningMosquitto> {
  const { openFiles } = options;

  if (openFiles !== undefined && !(Number.isInteger(openFiles) && openFiles > 0)) {
    throw new TypeError(`openFiles must be a whole number > 0, got ${String(openFiles)}`);
  }

  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'beckon-mosquitto-'));
  const configPath = join(dir, 'mosquitto.conf');
  const lines = [
    'per_listener_settings false',
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${options.allowAnonymous ?? true}`,
    'set_tcp_nodelay true',
    'user root',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'max_queued_messages 100000',
    `persistence ${options.persistence ?? false}`,
    `persistence_location ${dir}/`,
    ...(options.extraConfig ?? []),
  ];
  await writeFile(configPath, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    // `exec` keeps one process: the shell's pid becomes the broker's, so stop() signals it.
    const [command, args] =
      openFiles === undefined
        ? [MOSQUITTO_BIN, ['-c', configPath]]
        : [
            '/bin/sh',
            [
              '-c',
              'ulimit -n "$1" && exec "$2" -c "$3"',
              'sh',
              String(openFiles),
              MOSQUITTO_BIN,
              configPath,
            ],
          ];
    const spawned = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = spawned;
    spawned.stderr.setEncoding('utf8');
    spawned.stderr.on('data', (chunk: string) => {
      output += chunk;
    });

    const deadline = Date.now() + START_TIMEOUT_MS;

    while (Date.now() < deadline) {
      if (spawned.exitCode !== null) {
        throw new Error(`mosquitto exited with ${spawned.exitCode}: ${output}`);
      }

      if (await canConnect(port)) {
        return;
      }

      await sleep(POLL_INTERVAL_MS);
    }

    spawned.kill('SIGKILL');
    throw new Error(`mosquitto did not listen on ${port} within ${START_TIMEOUT_MS} ms: ${output}`);
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;

    if (running === undefined || running.exitCode !== null || running.signalCode !== null) {
      return;
    }

    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), STOP_TIMEOUT_MS);

    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  await start();

  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    pid: () => child?.pid,
    log: () => output,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    dispose: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
