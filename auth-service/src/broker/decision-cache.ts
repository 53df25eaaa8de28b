import type { CheckAccess, Decision } from '../decide/decision.js';
import { FirstSight } from './first-sight.js';

const SLOT: Readonly<Record<CheckAccess, number>> = {
  read: 0,
  write: 1,
  subscribe: 2,
  readwrite: 3,
};

/**
 * Answers already given for (username, topic, access) under the current snapshot. Nested maps
 * keyed by the strings the request parser already made, so a hit allocates nothing. Made anew
 * for every snapshot; when full it starts over rather than tracking recency on the hot path.
 *
 * An answer is kept only when its check comes a second time. Keeping every first answer made
 * a stream of checks that never repeat (a fleet's first minutes under a new snapshot, a client
 * trying topic after topic) cost up to a fifth of the service's throughput (the auth-check
 * benchmark's cold checks, which never repeat: 0.81-0.91 of the bare server's rate before,
 * 0.85-1.05 over three runs after): each entry outlived several young collections before
 * the cache started over, so it was copied, promoted and then marked with the whole directory.
 */
export class DecisionCache {
  readonly #byUser = new Map<string, Map<string, (Decision | undefined)[]>>();
  readonly #firstSight = new FirstSight();
  #size = 0;

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.#size;
  }

  get(username: string, topic: string, access: CheckAccess): Decision | undefined {
    return this.#byUser.get(username)?.get(topic)?.[SLOT[access]];
  }

  /** Keeps the answer if this check was offered before (probably: see FirstSight). */
  offer(username: string, topic: string, access: CheckAccess, decision: Decision): void {
    if (!this.#firstSight.seenBefore(username, topic, SLOT[access])) {
      return;
    }

    if (this.#size >= this.maxEntries) {
      this.clear();
    }

    let byTopic = this.#byUser.get(username);

    if (byTopic === undefined) {
      byTopic = new Map();
      this.#byUser.set(username, byTopic);
    }

    let slots = byTopic.get(topic);

    if (slots === undefined) {
      slots = [undefined, undefined, undefined, undefined];
      byTopic.set(topic, slots);
    }

    if (slots[SLOT[access]] === undefined) {
      this.#size += 1;
    }

    slots[SLOT[access]] = decision;
  }

  clear(): void {
    this.#byUser.clear();
    this.#size = 0;
  }
}
