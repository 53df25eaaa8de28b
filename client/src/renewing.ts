import type { Logger } from 'pino';
import { BeckonError, type ErrorCode } from './errors.js';

/** Renew when this share of a lease's lifetime has passed. */
const RENEW_AT_FRACTION = 2 / 3;
const RETRY_INITIAL_DELAY_MS = 1_000;
const RETRY_MAX_DELAY_MS = 60_000;

export interface Lease<T> {
  readonly value: T;
  readonly expiresAt: Date;
}

export interface RenewingOptions<T> {
  /** What is renewed, for logs and errors: "credential", "broker token". */
  readonly name: string;
  readonly fetch: () => Promise<Lease<T>>;
  readonly logger: Logger;
  /** The error code callers see while no valid lease is held. */
  readonly unavailableCode: ErrorCode;
  readonly onRenewed?: (lease: Lease<T>) => void;
}

/**
 * Holds a short-lived lease from the auth-service (the app's credential, a broker token) and
 * renews it at two thirds of its lifetime, retrying with backoff until the service answers.
 */
export class Renewing<T> {
  readonly #options: RenewingOptions<T>;
  #lease: Lease<T> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryDelayMs = RETRY_INITIAL_DELAY_MS;
  #stopped = false;
  #lastError: unknown;

  constructor(options: RenewingOptions<T>) {
    this.#options = options;
  }

  /** The first fetch; its failure is the caller's (connect fails). */
  async start(): Promise<void> {
    this.#accept(await this.#options.fetch());
  }

  /** The current value; throws while the lease has expired and renewal keeps failing. */
  current(): T {
    const lease = this.#lease;

    if (lease === undefined || lease.expiresAt.getTime() <= Date.now()) {
      throw new BeckonError(
        this.#options.unavailableCode,
        `no valid ${this.#options.name}: renewal has failed since it expired`,
        { cause: this.#lastError },
      );
    }

    return lease.value;
  }

  /** Like current(), for places that must not throw (redaction of logs). */
  peek(): T | undefined {
    return this.#lease?.value;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #accept(lease: Lease<T>): void {
    this.#lease = lease;
    this.#retryDelayMs = RETRY_INITIAL_DELAY_MS;
    const lifetimeMs = Math.max(0, lease.expiresAt.getTime() - Date.now());
    this.#schedule(Math.floor(lifetimeMs * RENEW_AT_FRACTION));
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) {
      return;
    }

    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.#renew();
    }, delayMs);
  }

  async #renew(): Promise<void> {
    this.#timer = undefined;

    try {
      const lease = await this.#options.fetch();

      if (this.#stopped) {
        return;
      }

      this.#accept(lease);
      this.#options.logger.info(
        { expiresAt: lease.expiresAt.toISOString() },
        `${this.#options.name} renewed`,
      );
      this.#options.onRenewed?.(lease);
    } catch (error) {
      this.#lastError = error;
      const delayMs = this.#retryDelayMs;
      this.#retryDelayMs = Math.min(RETRY_MAX_DELAY_MS, this.#retryDelayMs * 2);
      this.#options.logger.warn(
        { err: error, retryInMs: delayMs },
        `${this.#options.name} renewal failed`,
      );
      this.#schedule(delayMs);
    }
  }
}
