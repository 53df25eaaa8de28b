import {
  MAX_PROGRESS_CHUNK_LENGTH,
  type Progress,
  type Result as ResultMessage,
} from '@beckon/shared';
import type { Logger } from '../logger.js';
import type { ReplayStore } from '../state/replay-store.js';

/** What the publisher needs from the MQTT session. */
export interface Publisher {
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain?: boolean }): Promise<void>;
}

export interface ResultTopics {
  readonly results: string;
  readonly progress: string;
}

export interface DeliverOptions {
  /** A validated reply topic (the issuer's own replies topic), or undefined. */
  readonly replyTo?: string | undefined;
  /** True when the command is in the replay store, which then learns it was published. */
  readonly recorded: boolean;
}

/**
 * Publishes results with QoS 1 (to the results topic and, when asked, the issuer's replies
 * topic) and marks them published in the store once the broker acknowledged them. While the
 * connection is down MQTT.js holds QoS 1 publishes and sends them after reconnecting; what a
 * restart loses, `flushUnfinished` publishes from the store.
 */
export class ResultPublisher {
  readonly #session: Publisher;
  readonly #store: ReplayStore;
  readonly #topics: ResultTopics;
  readonly #logger: Logger;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #anonymous = new Set<Promise<void>>();

  constructor(session: Publisher, store: ReplayStore, topics: ResultTopics, logger: Logger) {
    this.#session = session;
    this.#store = store;
    this.#topics = topics;
    this.#logger = logger;
  }

  get inFlight(): number {
    return this.#inFlight.size + this.#anonymous.size;
  }

  /** Starts publishing; never rejects (a failure leaves the result for the next flush). */
  deliver(result: ResultMessage, options: DeliverOptions): Promise<void> {
    const message = result;
    const key = options.recorded ? message.commandId : null;
    const delivery = this.#publish(message, options).finally(() => {
      if (key === null) {
        this.#anonymous.delete(delivery);
      } else if (this.#inFlight.get(key) === delivery) {
        this.#inFlight.delete(key);
      }
    });

    if (key === null) {
      this.#anonymous.add(delivery);
    } else {
      this.#inFlight.set(key, delivery);
    }

    return delivery;
  }

  /** After each connect: publishes stored results the broker has not acknowledged yet. */
  flushUnfinished(): void {
    for (const entry of this.#store.unfinished()) {
      if (entry.result === undefined || this.#inFlight.has(entry.id)) {
        continue;
      }

      this.#logger.info(
        { commandId: entry.id, outcome: entry.result.outcome },
        'publishing a stored result',
      );
      void this.deliver(entry.result, { replyTo: entry.replyTo, recorded: true });
    }
  }

  /** Streams output as QoS 0 progress messages, cut to the contract's chunk size. */
  progress(chunk: Omit<Progress, 'data' | 'seq'>, data: string, nextSeq: () => number): void {
    for (let offset = 0; offset < data.length; offset += MAX_PROGRESS_CHUNK_LENGTH) {
      const message: Progress = {
        ...chunk,
        seq: nextSeq(),
        data: data.slice(offset, offset + MAX_PROGRESS_CHUNK_LENGTH),
      };
      this.#session
        .publish(this.#topics.progress, JSON.stringify(message), { qos: 0 })
        .catch((error: unknown) => {
          this.#logger.debug({ err: error, commandId: chunk.commandId }, 'progress not sent');
        });
    }
  }

  /** Waits until every delivery started so far settled, or the timeout passed. */
  async drain(timeoutMs: number): Promise<boolean> {
    const pending = [...this.#inFlight.values(), ...this.#anonymous];

    if (pending.length === 0) {
      return true;
    }

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });

    try {
      return await Promise.race([Promise.all(pending).then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #publish(result: ResultMessage, options: DeliverOptions): Promise<void> {
    const payload = JSON.stringify(result);
    const topics = [
      this.#topics.results,
      ...(options.replyTo === undefined ? [] : [options.replyTo]),
    ];

    try {
      await Promise.all(topics.map((topic) => this.#session.publish(topic, payload, { qos: 1 })));

      if (options.recorded && result.commandId !== null) {
        await this.#store.markPublished(result.commandId);
      }

      this.#logger.debug(
        { commandId: result.commandId, outcome: result.outcome },
        'result published',
      );
    } catch (error) {
      this.#logger.warn({ err: error, commandId: result.commandId }, 'result not published yet');
    }
  }
}
