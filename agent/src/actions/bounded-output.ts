import { TextDecoder } from 'node:util';
import { MAX_OUTPUT_LENGTH } from '@beckon/shared';
import { safeCutIndex } from './bounded-text.js';

/**
 * Bytes that can still decode to MAX_OUTPUT_LENGTH UTF-16 units: no character takes more than
 * three UTF-8 bytes per unit, so keeping more than this would only be cut off later.
 */
export const MAX_CAPTURED_BYTES = MAX_OUTPUT_LENGTH * 3;

/** One captured stream: what the result will carry. */
export interface CapturedText {
  readonly text: string;
  readonly truncated: boolean;
}

/**
 * Keeps the first `limitBytes` of one output stream and counts the rest away, so that the
 * program is drained (never blocked on a full pipe) while the agent's memory stays bounded.
 */
export class BoundedOutput {
  readonly #limit: number;
  readonly #chunks: Uint8Array[] = [];
  #size = 0;
  #truncated = false;

  constructor(limitBytes: number) {
    this.#limit = Math.min(limitBytes, MAX_CAPTURED_BYTES);
  }

  /** Keeps what still fits and returns that part (empty once the limit is reached). */
  append(chunk: Uint8Array): Uint8Array {
    const room = this.#limit - this.#size;

    if (chunk.length > room) {
      this.#truncated = true;
    }

    const kept = chunk.subarray(0, Math.max(room, 0));

    if (kept.length > 0) {
      this.#chunks.push(kept);
      this.#size += kept.length;
    }

    return kept;
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  /**
   * The captured bytes as text: invalid UTF-8 becomes U+FFFD, a character cut in half at the
   * byte limit is dropped, and the text never exceeds shared's MAX_OUTPUT_LENGTH.
   */
  text(): CapturedText {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    const bytes = Buffer.concat(this.#chunks);
    // `stream: true` holds back an incomplete trailing sequence instead of replacing it.
    const decoded = decoder.decode(bytes, { stream: this.#truncated });
    const cut = safeCutIndex(decoded, MAX_OUTPUT_LENGTH);

    return { text: decoded.slice(0, cut), truncated: this.#truncated || cut < decoded.length };
  }
}
