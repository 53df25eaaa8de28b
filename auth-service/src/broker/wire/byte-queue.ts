const EMPTY = Buffer.alloc(0);
/** Bytes of a new storage at least; a request head usually fits. */
const MIN_STORAGE_BYTES = 4_096;

/**
 * The bytes a connection has received and not yet parsed. A chunk that arrives alone is kept
 * as it is (no copy: the plug's request is one chunk); chunks that pile up are copied into a
 * storage that doubles, so a request sent a byte at a time costs linear, not quadratic, time.
 * Bytes taken out are views: they stay valid, as new bytes only ever go after them.
 */
export class ByteQueue {
  #data: Buffer = EMPTY;
  #start = 0;
  #end = 0;
  #owned = false;

  get length(): number {
    return this.#end - this.#start;
  }

  /** The unparsed bytes (a view, valid until the next push or take). */
  view(): Buffer {
    return this.#data.subarray(this.#start, this.#end);
  }

  push(chunk: Buffer): void {
    if (this.length === 0) {
      this.#data = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;

      return;
    }

    if (this.#owned && this.#end + chunk.length <= this.#data.length) {
      chunk.copy(this.#data, this.#end);
      this.#end += chunk.length;

      return;
    }

    const length = this.length;
    const storage = Buffer.allocUnsafe(Math.max(MIN_STORAGE_BYTES, 2 * (length + chunk.length)));
    this.#data.copy(storage, 0, this.#start, this.#end);
    chunk.copy(storage, length);
    this.#data = storage;
    this.#start = 0;
    this.#end = length + chunk.length;
    this.#owned = true;
  }

  /** Removes and returns the first `count` bytes. */
  take(count: number): Buffer {
    const taken = this.#data.subarray(this.#start, this.#start + count);
    this.#start += count;

    if (this.#start === this.#end) {
      this.clear();
    }

    return taken;
  }

  clear(): void {
    this.#data = EMPTY;
    this.#start = 0;
    this.#end = 0;
    this.#owned = false;
  }
}
