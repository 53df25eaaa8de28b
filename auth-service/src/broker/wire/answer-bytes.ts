import { STATUS_CODES } from 'node:http';
import type { CheckAnswer } from '../replies.js';

const MILLIS_PER_SECOND = 1_000;
/** Keys of the status-only answers: the status and two flags. */
const CLOSE_FLAG = 1;
const KEEP_ALIVE_FLAG = 2;
const FLAGS = 4;

/** The interim answer to `Expect: 100-continue`. */
export const CONTINUE_BYTES = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/**
 * Turns answers into the bytes of one `socket.write`: status line, headers, body. The `Date`
 * header changes once a second, so the status-only answers (nearly every broker answer) are
 * built once per second and shared until then.
 */
export class AnswerBytes {
  readonly #now: () => number;
  readonly #statusOnly = new Map<number, Buffer>();
  #second = Number.NaN;
  #date = '';

  /** `now`: milliseconds since the epoch (tests pin it for byte-exact answers). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * `close` adds `Connection: close`; `keepAlive` adds `Connection: keep-alive`, which an
   * HTTP/1.0 client needs to keep the connection.
   */
  bytes(answer: CheckAnswer, close: boolean, keepAlive: boolean): Buffer {
    this.#tick();

    if (answer.body !== '' || answer.contentType !== undefined || answer.allow !== undefined) {
      return Buffer.from(this.#head(answer, close, keepAlive) + answer.body, 'utf8');
    }

    const key =
      answer.status * FLAGS + (close ? CLOSE_FLAG : 0) + (keepAlive ? KEEP_ALIVE_FLAG : 0);
    let bytes = this.#statusOnly.get(key);

    if (bytes === undefined) {
      bytes = Buffer.from(this.#head(answer, close, keepAlive), 'latin1');
      this.#statusOnly.set(key, bytes);
    }

    return bytes;
  }

  #tick(): void {
    const now = this.#now();
    const second = Math.floor(now / MILLIS_PER_SECOND);

    if (second !== this.#second) {
      this.#second = second;
      this.#date = new Date(second * MILLIS_PER_SECOND).toUTCString();
      this.#statusOnly.clear();
    }
  }

  #head(answer: CheckAnswer, close: boolean, keepAlive: boolean): string {
    const reason = STATUS_CODES[answer.status] ?? 'Unknown';
    let head =
      `HTTP/1.1 ${answer.status} ${reason}\r\n` +
      `Content-Length: ${Buffer.byteLength(answer.body)}\r\n`;

    if (answer.contentType !== undefined) {
      head += `Content-Type: ${answer.contentType}\r\n`;
    }

    if (answer.allow !== undefined) {
      head += `Allow: ${answer.allow}\r\n`;
    }

    head += `Date: ${this.#date}\r\n`;

    if (close) {
      head += 'Connection: close\r\n';
    } else if (keepAlive) {
      head += 'Connection: keep-alive\r\n';
    }

    return `${head}\r\n`;
  }
}
