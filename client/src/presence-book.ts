import { parseStatus } from '@beckon/shared';
import type { Logger } from 'pino';
import { LiveFeed, type Watch, type WatchOptions } from './live-feed.js';
import { presenceFromStatus, type AgentPresence } from './presence.js';

/** How long status() waits for an agent's retained status after subscribing. */
export const STATUS_WAIT_MS = 1_000;
/** listAgents() stops waiting for retained statuses after this long without a new one. */
export const LIST_QUIET_MS = 500;
const LIST_MAX_WAIT_MS = 10_000;

/** What the client knows of every agent's presence, fed by retained status messages. */
export class PresenceBook {
  readonly #logger: Logger;
  readonly #known = new Map<string, AgentPresence>();
  readonly #feed: LiveFeed<AgentPresence>;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#feed = new LiveFeed('watchStatus', logger);
  }

  /** A payload from `beckon/v1/agents/<topicAgentId>/status`. */
  onStatus(topicAgentId: string, payload: Buffer): void {
    if (payload.byteLength === 0) {
      // A cleared retained status: the agent was removed.
      this.#known.delete(topicAgentId);
      return;
    }

    const parsed = parseStatus(payload);

    // The broker lets only agent X write X's status topic; a body naming another agent lies.
    if (!parsed.ok || parsed.value.agentId !== topicAgentId) {
      this.#logger.warn({ agentId: topicAgentId }, 'malformed status ignored');
      return;
    }

    const presence = presenceFromStatus(parsed.value, new Date());
    this.#known.set(topicAgentId, presence);
    this.#feed.publish(presence);
  }

  /** The known presence, or whatever arrives for the agent within STATUS_WAIT_MS. */
  async get(agentId: string): Promise<AgentPresence | undefined> {
    const known = this.#known.get(agentId);

    if (known !== undefined) {
      return known;
    }

    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(this.#known.get(agentId));
      }, STATUS_WAIT_MS);
      const stop = this.#feed.listen((presence) => {
        if (presence.agentId === agentId) {
          clearTimeout(timer);
          stop();
          resolve(presence);
        }
      });
    });
  }

  /**
   * Every known agent, once retained statuses stopped arriving: they follow the SUBACK with
   * no end marker, so quiet is the only sign that all are in.
   */
  async list(): Promise<AgentPresence[]> {
    await new Promise<void>((resolve) => {
      let quiet: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(quiet);
        clearTimeout(cap);
        stop();
        resolve();
      };
      const restartQuiet = (): void => {
        clearTimeout(quiet);
        quiet = setTimeout(finish, LIST_QUIET_MS);
      };
      const cap = setTimeout(finish, LIST_MAX_WAIT_MS);
      const stop = this.#feed.listen(restartQuiet);
      restartQuiet();
    });

    return [...this.#known.values()].sort((a, b) => a.agentId.localeCompare(b.agentId));
  }

  /** Presence changes as they happen, starting with what is already known. */
  watch(options: WatchOptions<AgentPresence>): Watch<AgentPresence> {
    const { watch, deliver } = this.#feed.watch(options);

    for (const presence of this.#known.values()) {
      deliver(presence);
    }

    return watch;
  }

  closeAll(error?: Error): void {
    this.#feed.closeAll(error);
  }
}
