import type { Logger } from '../logger.js';

/** The daemon's life, in order; `reconnecting` and `connected` alternate while it runs. */
export const AGENT_STATES = [
  'starting',
  'connecting',
  'connected',
  'reconnecting',
  'draining',
  'stopped',
] as const;

export type AgentState = (typeof AGENT_STATES)[number];

/** Holds the current state and logs every change on one line. */
export class AgentStateMachine {
  readonly #logger: Logger;
  readonly #listeners = new Set<(state: AgentState) => void>();
  #state: AgentState = 'starting';

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#logger.info({ state: this.#state }, 'agent state');
  }

  get state(): AgentState {
    return this.#state;
  }

  /** Moves to `next`; once draining, only `stopped` may follow (a late reconnect is not news). */
  moveTo(next: AgentState): void {
    if (next === this.#state) {
      return;
    }

    if ((this.#state === 'draining' && next !== 'stopped') || this.#state === 'stopped') {
      return;
    }

    const previous = this.#state;
    this.#state = next;
    this.#logger.info({ state: next, previous }, 'agent state');

    for (const listener of this.#listeners) {
      listener(next);
    }
  }

  onChange(listener: (state: AgentState) => void): () => void {
    this.#listeners.add(listener);

    return () => this.#listeners.delete(listener);
  }
}
