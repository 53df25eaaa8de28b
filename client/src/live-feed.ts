import type { Logger } from 'pino';
import { AsyncQueue } from './async-queue.js';
import { invalidArgument } from './errors.js';

export interface WatchOptions<T> {
  readonly signal?: AbortSignal;
  readonly onChange?: (item: T) => void;
}

/** A live feed; iterate it or pass onChange, and close() it (or abort its signal) when done. */
export interface Watch<T> extends AsyncIterable<T> {
  close(): void;
}

/**
 * Fans items out to any number of watchers, each an async iterable or a callback, each with its
 * own end (close, abort, or the whole feed closing).
 */
export class LiveFeed<T> {
  readonly #name: string;
  readonly #logger: Logger;
  readonly #listeners = new Set<(item: T) => void>();
  readonly #closers = new Set<(error?: Error) => void>();

  constructor(name: string, logger: Logger) {
    this.#name = name;
    this.#logger = logger;
  }

  publish(item: T): void {
    for (const listener of [...this.#listeners]) {
      listener(item);
    }
  }

  /** A one-off listener, for internal waits; returns its removal. */
  listen(listener: (item: T) => void): () => void {
    this.#listeners.add(listener);

    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** A new watcher, and a way to hand it items only it should see (a replay of the known). */
  watch(options: WatchOptions<T>): {
    readonly watch: Watch<T>;
    readonly deliver: (item: T) => void;
  } {
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw invalidArgument('options.signal', 'must be an AbortSignal');
    }

    if (options.onChange !== undefined && typeof options.onChange !== 'function') {
      throw invalidArgument('options.onChange', 'must be a function');
    }

    const close = (error?: Error): void => {
      this.#listeners.delete(deliver);
      this.#closers.delete(close);
      options.signal?.removeEventListener('abort', onAbort);
      queue.end(error);
    };
    const onAbort = (): void => {
      close();
    };
    const queue = new AsyncQueue<T>(close);
    const deliver = (item: T): void => {
      if (options.onChange === undefined) {
        queue.push(item);
        return;
      }

      try {
        options.onChange(item);
      } catch (error) {
        this.#logger.warn({ err: error }, `${this.#name} callback threw`);
      }
    };

    this.#listeners.add(deliver);
    this.#closers.add(close);

    if (options.signal?.aborted === true) {
      close();
    } else {
      options.signal?.addEventListener('abort', onAbort, { once: true });
    }

    return {
      watch: {
        [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
        close: () => {
          close();
        },
      },
      deliver,
    };
  }

  /** Ends every watcher, with an error when the feed failed. */
  closeAll(error?: Error): void {
    for (const close of [...this.#closers]) {
      close(error);
    }

    this.#listeners.clear();
  }
}
