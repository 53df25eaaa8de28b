import { TextDecoder } from 'node:util';
import { MAX_PROGRESS_CHUNK_LENGTH } from '@beckon/shared';
import { splitText } from './bounded-text.js';

/**
 * Output is gathered for this long before it goes out as progress, so a program that writes
 * a byte at a time costs ten messages a second per stream, not one per write.
 */
export const PROGRESS_INTERVAL_MS = 100;

export type OutputStream = 'stdout' | 'stderr';

export interface ProgressChunk {
  readonly stream: OutputStream;
  readonly data: string;
}

export type ProgressListener = (chunk: ProgressChunk) => void;

interface StreamState {
  readonly decoder: TextDecoder;
  pending: string;
}

/**
 * Turns captured output bytes into progress chunks: decoded per stream without splitting
 * characters across chunks, coalesced over PROGRESS_INTERVAL_MS, each at most
 * MAX_PROGRESS_CHUNK_LENGTH characters. It relays only what the run captures, so its total
 * volume is bounded by the action's output limit.
 */
export class ProgressRelay {
  readonly #listener: ProgressListener;
  readonly #onListenerError: (error: unknown) => void;
  readonly #streams: Record<OutputStream, StreamState> = {
    stdout: { decoder: new TextDecoder('utf-8', { ignoreBOM: true }), pending: '' },
    stderr: { decoder: new TextDecoder('utf-8', { ignoreBOM: true }), pending: '' },
  };
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(listener: ProgressListener, onListenerError: (error: unknown) => void) {
    this.#listener = listener;
    this.#onListenerError = onListenerError;
  }

  push(stream: OutputStream, bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) {
      return;
    }

    const state = this.#streams[stream];
    state.pending += state.decoder.decode(bytes, { stream: true });

    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, PROGRESS_INTERVAL_MS);
  }

  /** Sends what is pending at once and stops; later pushes are ignored. */
  close(): void {
    if (this.#closed) {
      return;
    }

    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
    this.#closed = true;
  }

  #flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const state = this.#streams[stream];
      const pieces = splitText(state.pending, MAX_PROGRESS_CHUNK_LENGTH);
      state.pending = '';

      for (const data of pieces) {
        this.#emit({ stream, data });
      }
    }
  }

  // A listener that throws (a publish that failed) must not end the run.
  #emit(chunk: ProgressChunk): void {
    try {
      this.#listener(chunk);
    } catch (error) {
      this.#onListenerError(error);
    }
  }
}
