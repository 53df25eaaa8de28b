import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { PlugClient } from '@beckon/auth-service';
import { freePort } from '@beckon/test-support';
import { AdminApi } from '../../harness/admin-api.js';
import { REPO_ROOT } from './paths.js';

const run = promisify(execFile);
const AUTH_CLI = join(REPO_ROOT, 'auth-service', 'dist', 'cli.js');
const READY_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 50;

export type AuthStore = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface AuthProcessOptions {
  /** Defaults to a SQLite file in the process's own folder. */
  readonly store?: AuthStore;
  /** Extra top-level keys of auth.yaml (JSON is YAML), merged over the defaults. */
  readonly config?: Record<string, unknown>;
  readonly logLevel?: string;
}

/**
 * `beckon-auth serve --config auth.yaml` (the built CLI) in its own process, on fixed free
 * ports, so a test can stop, kill and start it again on the same ports with the same store.
 */
export class AuthProcess {
  readonly dir: string;
  readonly configPath: string;
  readonly ports: { readonly broker: number; readonly admin: number; readonly public: number };
  /** Every line the process wrote, stdout and stderr, across all its runs. */
  readonly lines: string[] = [];
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #admin: AdminApi | undefined;
  #token: string | undefined;

  private constructor(dir: string, configPath: string, ports: AuthProcess['ports']) {
    this.dir = dir;
    this.configPath = configPath;
    this.ports = ports;
  }

  static async create(options: AuthProcessOptions = {}): Promise<AuthProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'beckon-reliability-auth-'));
    const ports = { broker: await freePort(), admin: await freePort(), public: await freePort() };
    const config = {
      store: options.store ?? { kind: 'sqlite', path: join(dir, 'auth.db') },
      listeners: {
        broker: { host: '127.0.0.1', port: ports.broker },
        admin: { host: '127.0.0.1', port: ports.admin },
        public: { host: '127.0.0.1', port: ports.public },
      },
      issuer: 'beckon-reliability',
      logLevel: options.logLevel ?? 'info',
      ...options.config,
    };
    const configPath = join(dir, 'auth.yaml');
    await writeFile(configPath, JSON.stringify(config, null, 2));

    return new AuthProcess(dir, configPath, ports);
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.ports.admin}`;
  }

  get publicUrl(): string {
    return `http://127.0.0.1:${this.ports.public}`;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && !this.#child.killed;
  }

  /** The admin API with a token made by `beckon-auth admin-token create` (once). */
  get admin(): AdminApi {
    if (this.#admin === undefined) {
      throw new Error('call createAdminToken() first');
    }

    return this.#admin;
  }

  /** The admin token, for requests the AdminApi helper does not make (raw status checks). */
  get token(): string {
    if (this.#token === undefined) {
      throw new Error('call createAdminToken() first');
    }

    return this.#token;
  }

  /** Asks the broker listener exactly as mosquitto-auth-plug's http backend does. */
  plug(options: { retryCount?: number; timeoutMs?: number } = {}): PlugClient {
    return new PlugClient({
      backend: 'http',
      ip: '127.0.0.1',
      port: this.ports.broker,
      ...options,
    });
  }

  async createAdminToken(): Promise<string> {
    const { stdout } = await run(process.execPath, [
      AUTH_CLI,
      'admin-token',
      'create',
      '--config',
      this.configPath,
      '--name',
      'reliability',
      '--json',
    ]);
    const { token } = JSON.parse(stdout) as { token: string };
    this.#admin = new AdminApi(this.adminUrl, token);
    this.#token = token;

    return token;
  }

  /** Starts `serve` and resolves once every listener answers /readyz. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [AUTH_CLI, 'serve', '--config', this.configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    createInterface({ input: child.stdout }).on('line', (line) => this.lines.push(line));
    createInterface({ input: child.stderr }).on('line', (line) => this.lines.push(line));

    const deadline = Date.now() + READY_TIMEOUT_MS;

    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`beckon-auth serve exited with ${child.exitCode}:\n${this.tail()}`);
      }

      if (await this.#ready()) {
        return;
      }

      await sleep(POLL_INTERVAL_MS);
    }

    child.kill('SIGKILL');
    throw new Error(`beckon-auth serve was not ready in ${READY_TIMEOUT_MS} ms:\n${this.tail()}`);
  }

  /** SIGTERM (orderly) or SIGKILL (a crash); resolves once the process is gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.#child;

    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      return;
    }

    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);

    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    await rm(this.dir, { recursive: true, force: true });
  }

  tail(count = 20): string {
    return this.lines.slice(-count).join('\n');
  }

  async #ready(): Promise<boolean> {
    const urls = [this.adminUrl, this.publicUrl, `http://127.0.0.1:${this.ports.broker}`];

    try {
      const answers = await Promise.all(urls.map((url) => fetch(`${url}/readyz`)));

      return answers.every((answer) => answer.ok);
    } catch {
      return false;
    }
  }
}
