import type { CheckAccess, Decision } from '../decide/decision.js';

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
 */
export class DecisionCache {
  readonly #byUser = new Map<string, Map<string, (Decision | undefined)[]>>();
  #size = 0;

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.#size;
  }

  get(username: string, topic: string, access: CheckAccess): Decision | undefined {
    return this.#byUser.get(username)?.get(topic)?.[SLOT[access]];
  }

  set(username: string, topic: string, access: CheckAccess, decision: Decision): void {
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
