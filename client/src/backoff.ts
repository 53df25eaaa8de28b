/** How long to wait between broker connection attempts. */
export interface ReconnectSchedule {
  /** The first delay after a lost session is random in [0, firstDelayMaxMs). */
  readonly firstDelayMaxMs: number;
  /** The base of the exponential backoff once the first attempt failed. */
  readonly initialDelayMs: number;
  /** No delay grows beyond this. */
  readonly maxDelayMs: number;
  /** The base after the broker said "not authorised": retrying sooner cannot help. */
  readonly notAuthorisedDelayMs: number;
}

// After a broker restart every client reconnects at once and Mosquitto's listen backlog is 100
// (PERFORMANCE.md): the first attempt is spread over seconds, not only the later ones.
export const DEFAULT_RECONNECT_SCHEDULE: ReconnectSchedule = Object.freeze({
  firstDelayMaxMs: 2_000,
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  notAuthorisedDelayMs: 15_000,
});

/**
 * Exponential backoff with "equal jitter": each delay is random in [base / 2, base], where base
 * doubles per failed attempt up to the cap. Reset once a session is established.
 */
export class Backoff {
  readonly #schedule: ReconnectSchedule;
  readonly #random: () => number;
  #attempt = 0;

  constructor(schedule: ReconnectSchedule, random: () => number = Math.random) {
    this.#schedule = schedule;
    this.#random = random;
  }

  /** The delay before the next attempt; `notAuthorised` when the last CONNACK refused us. */
  next(notAuthorised = false): number {
    const attempt = this.#attempt;
    this.#attempt += 1;

    if (attempt === 0 && !notAuthorised) {
      return Math.floor(this.#random() * this.#schedule.firstDelayMaxMs);
    }

    const start = notAuthorised
      ? this.#schedule.notAuthorisedDelayMs
      : this.#schedule.initialDelayMs;
    const base = Math.min(this.#schedule.maxDelayMs, start * 2 ** Math.min(attempt, 30));

    return Math.floor(base / 2 + (this.#random() * base) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
