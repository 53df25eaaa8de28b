import { spawn } from 'node:child_process';
import notify from 'systemd-notify';
import type { Logger } from '../logger.js';

/** The environment the notifier reads; injectable so tests pass a plain object. */
export interface SystemdEnv {
  readonly NOTIFY_SOCKET?: string | undefined;
  readonly WATCHDOG_USEC?: string | undefined;
  readonly WATCHDOG_PID?: string | undefined;
}

const MICROSECONDS_PER_MS = 1_000;
/** A watchdog period shorter than this is a misconfiguration, not something to honour. */
const MIN_WATCHDOG_INTERVAL_MS = 500;

function watchdogIntervalMs(env: SystemdEnv): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);

  if (!Number.isFinite(usec) || usec <= 0) {
    return undefined;
  }

  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== process.pid) {
    return undefined;
  }

  // Half the period, as sd_watchdog_enabled(3) advises.
  return Math.max(MIN_WATCHDOG_INTERVAL_MS, usec / MICROSECONDS_PER_MS / 2);
}

/**
 * Talks to systemd through the `systemd-notify` tool (the npm package for READY and STATUS,
 * the tool directly for WATCHDOG and STOPPING, which the package cannot send). Outside systemd
 * (no NOTIFY_SOCKET) it does nothing: the tool would fail there. Failures are logged, never
 * fatal: the agent's job does not depend on systemd hearing from it.
 */
export class SystemdNotifier {
  readonly #env: SystemdEnv;
  readonly #logger: Logger;
  #watchdog: NodeJS.Timeout | undefined;
  #lastStatus: string | undefined;

  constructor(env: SystemdEnv, logger: Logger) {
    this.#env = env;
    this.#logger = logger;
  }

  get enabled(): boolean {
    return this.#env.NOTIFY_SOCKET !== undefined && this.#env.NOTIFY_SOCKET !== '';
  }

  ready(status: string): Promise<void> {
    this.#lastStatus = status;

    return this.#send('ready', () => notify({ ready: true, status }));
  }

  /** Sends STATUS= when it changed. */
  status(status: string): Promise<void> {
    if (status === this.#lastStatus) {
      return Promise.resolve();
    }

    this.#lastStatus = status;

    return this.#send('status', () => notify({ status }));
  }

  stopping(): Promise<void> {
    return this.#send('stopping', () => this.#raw('STOPPING=1'));
  }

  /**
   * Pings the watchdog at half of WATCHDOG_USEC. The ping rides on a timer of the main event
   * loop, so a blocked loop stops the pings and systemd restarts the agent.
   */
  startWatchdog(): void {
    const intervalMs = this.enabled ? watchdogIntervalMs(this.#env) : undefined;

    if (intervalMs === undefined || this.#watchdog !== undefined) {
      return;
    }

    this.#logger.info({ intervalMs }, 'systemd watchdog on');
    this.#watchdog = setInterval(() => {
      void this.#send('watchdog', () => this.#raw('WATCHDOG=1'));
    }, intervalMs);
  }

  stopWatchdog(): void {
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }

  async #send(what: string, send: () => Promise<unknown>): Promise<void> {
    if (!this.enabled) {
      return;
    }

    try {
      await send();
    } catch (error) {
      this.#logger.warn({ err: error, notify: what }, 'systemd notification failed');
    }
  }

  #raw(assignment: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('systemd-notify', [assignment], {
        stdio: 'ignore',
        env: { ...process.env, NOTIFY_SOCKET: this.#env.NOTIFY_SOCKET },
      });
      child.once('error', reject);
      child.once('exit', (code) => {
        if (code === 0) {
          resolve();
        } else {
          reject(new Error(`systemd-notify ${assignment} exited with ${code}`));
        }
      });
    });
  }
}
