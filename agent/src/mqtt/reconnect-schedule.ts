// When to dial the broker again. Three regimes:
// - the first retry after losing a connection waits a random delay spread over seconds: after
//   a broker restart every agent notices at once, and Mosquitto's listen backlog is only 100
//   (PERFORMANCE.md), so a fleet that retries in step overflows it;
// - later retries back off exponentially with full jitter, capped at about a minute;
// - a broker that refused our credentials is asked again on a much slower schedule (an
//   operator has to act), never in a tight loop and never given up on.

export interface ReconnectTimings {
  /** The first retry after a lost connection waits uniformly up to this long. */
  readonly firstSpreadMs: number;
  readonly baseMs: number;
  readonly capMs: number;
  /** After an auth refusal: waits between half and all of min(cap, base * 2^n). */
  readonly authBaseMs: number;
  readonly authCapMs: number;
  /** No retry ever comes sooner than this. */
  readonly minMs: number;
}

export const DEFAULT_RECONNECT_TIMINGS: ReconnectTimings = {
  firstSpreadMs: 5_000,
  baseMs: 1_000,
  capMs: 60_000,
  authBaseMs: 30_000,
  authCapMs: 10 * 60_000,
  minMs: 100,
};

export type Failure = 'lost' | 'auth';

export class ReconnectSchedule {
  readonly #timings: ReconnectTimings;
  readonly #random: () => number;
  #failures = 0;
  #authFailures = 0;

  constructor(timings: ReconnectTimings = DEFAULT_RECONNECT_TIMINGS, random = Math.random) {
    this.#timings = timings;
    this.#random = random;
  }

  /** A connection was accepted: the next loss starts from the spread-out first delay again. */
  reset(): void {
    this.#failures = 0;
    this.#authFailures = 0;
  }

  /** The delay before the next attempt, after a failure of the given kind. */
  next(failure: Failure): number {
    const t = this.#timings;

    if (failure === 'auth') {
      const ceiling = Math.min(t.authCapMs, t.authBaseMs * 2 ** this.#authFailures);
      this.#authFailures += 1;

      return Math.max(t.minMs, Math.round(ceiling / 2 + (this.#random() * ceiling) / 2));
    }

    const attempt = this.#failures;
    this.#failures += 1;

    if (attempt === 0) {
      return Math.max(t.minMs, Math.round(this.#random() * t.firstSpreadMs));
    }

    const ceiling = Math.min(t.capMs, t.baseMs * 2 ** attempt);

    return Math.max(t.minMs, Math.round(this.#random() * ceiling));
  }
}
