/** The most items an unread iterator buffers; older ones are dropped past this. */
const MAX_BUFFERED_ITEMS = 10_000;

/**
 * A push-fed async iterable for one reader: progress chunks, presence changes, results. Ending
 * it finishes the reader's loop; ending it with an error makes the loop throw.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #buffer: T[] = [];
  #waiting: { resolve: (item: IteratorResult<T>) => void; reject: (error: Error) => void }[] = [];
  #ended = false;
  #error: Error | undefined = undefined;
  #dropped = 0;
  readonly #onReturn: (() => void) | undefined;

  constructor(onReturn?: () => void) {
    this.#onReturn = onReturn;
  }

  /** How many items were dropped because nobody read them. */
  get dropped(): number {
    return this.#dropped;
  }

  push(item: T): void {
    if (this.#ended) {
      return;
    }

    const waiter = this.#waiting.shift();

    if (waiter !== undefined) {
      waiter.resolve({ value: item, done: false });
      return;
    }

    if (this.#buffer.length >= MAX_BUFFERED_ITEMS) {
      this.#buffer.shift();
      this.#dropped += 1;
    }

    this.#buffer.push(item);
  }

  end(error?: Error): void {
    if (this.#ended) {
      return;
    }

    this.#ended = true;
    this.#error = error;
    const waiting = this.#waiting;
    this.#waiting = [];

    for (const waiter of waiting) {
      if (error === undefined) {
        waiter.resolve({ value: undefined, done: true });
      } else {
        waiter.reject(error);
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#buffer.shift();

        if (item !== undefined) {
          return Promise.resolve({ value: item, done: false });
        }

        if (this.#ended) {
          return this.#error === undefined
            ? Promise.resolve({ value: undefined, done: true })
            : Promise.reject(this.#error);
        }

        return new Promise((resolve, reject) => {
          this.#waiting.push({ resolve, reject });
        });
      },
      return: () => {
        this.end();
        this.#onReturn?.();

        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
