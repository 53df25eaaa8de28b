import { connect, type Socket } from 'node:net';

// HTTP/1.1 requests over reused connections, with no more machinery than a plugin's client
// has: node:http's ClientRequest and Agent cost the embedded broker more CPU per check than
// the plug's connection per request did (connect-storm profiles), which made the stand-in for
// a Go client measure Node's HTTP client instead. Requests are sent whole, as bytes; answers
// are read by Content-Length, or up to the close when there is none.

/** A complete answer: its status code and body. */
export interface PoolAnswer {
  readonly status: number;
  readonly body: Buffer;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*(?=\r\n|$)/i;
const CHUNKED = /\r\ntransfer-encoding:[^\r]*chunked/i;
const CLOSES = /\r\nconnection:[ \t]*close[ \t]*(?=\r\n|$)/i;

/** Whether a finished exchange leaves the connection usable for the next request. */
interface Exchange {
  readonly answer: PoolAnswer | undefined;
  readonly reusable: boolean;
}

export class KeepAlivePool {
  readonly #host: string;
  readonly #port: number;
  readonly #maxIdle: number;
  /** Idle connections, each with the listener that drops it if the server closes it. */
  readonly #idle: { readonly socket: Socket; readonly forget: () => void }[] = [];
  #closed = false;

  /** `maxIdle`: connections kept open between requests; any more are closed after use. */
  constructor(host: string, port: number, maxIdle: number) {
    this.#host = host;
    this.#port = port;
    this.#maxIdle = maxIdle;
  }

  /**
   * Sends one request and resolves with its answer, or undefined when there was none (refused,
   * reset, timed out, malformed). A reused connection that fails before any byte of an answer
   * is retried once on a new one: the server may have closed it while it sat idle, as Go's
   * transport assumes too.
   */
  async request(bytes: Buffer, timeoutMs: number): Promise<PoolAnswer | undefined> {
    const reused = this.#takeIdle();

    if (reused !== undefined) {
      const first = await this.#exchange(reused, bytes, timeoutMs);

      if (first !== 'stale') {
        return first;
      }
    }

    const fresh = connect({ host: this.#host, port: this.#port, noDelay: true });
    const answer = await this.#exchange(fresh, bytes, timeoutMs);

    return answer === 'stale' ? undefined : answer;
  }

  /** Closes every idle connection; later requests open none to keep. */
  close(): void {
    this.#closed = true;

    for (const { socket } of this.#idle.splice(0)) {
      socket.destroy();
    }
  }

  #takeIdle(): Socket | undefined {
    const idle = this.#idle.pop();

    if (idle === undefined) {
      return undefined;
    }

    idle.socket.removeListener('end', idle.forget);
    idle.socket.removeListener('close', idle.forget);
    idle.socket.removeListener('error', idle.forget);

    return idle.socket;
  }

  #exchange(
    socket: Socket,
    bytes: Buffer,
    timeoutMs: number,
  ): Promise<PoolAnswer | undefined | 'stale'> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let received = 0;

      const finish = (exchange: Exchange | 'stale'): void => {
        socket.removeListener('data', onData);
        socket.removeListener('error', onError);
        socket.removeListener('end', onEnd);
        socket.removeListener('close', onEnd);
        socket.removeListener('timeout', onTimeout);
        socket.setTimeout(0);

        if (exchange === 'stale') {
          socket.destroy();
          resolve('stale');

          return;
        }

        this.#release(socket, exchange.reusable);
        resolve(exchange.answer);
      };

      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        received += chunk.length;
        const exchange = readExchange(Buffer.concat(chunks, received), false);

        if (exchange !== undefined) {
          finish(exchange);
        }
      };

      const onEnd = (): void => {
        finish(received === 0 ? 'stale' : (readExchange(Buffer.concat(chunks), true) ?? FAILED));
      };

      const onError = (): void => {
        finish(received === 0 ? 'stale' : FAILED);
      };

      const onTimeout = (): void => {
        finish(FAILED);
      };

      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('end', onEnd);
      socket.on('close', onEnd);
      socket.on('timeout', onTimeout);
      socket.setTimeout(timeoutMs);
      socket.write(bytes);
    });
  }

  #release(socket: Socket, reusable: boolean): void {
    if (!reusable || this.#closed || this.#idle.length >= this.#maxIdle) {
      socket.destroy();

      return;
    }

    // An idle connection the server closes is dropped from the pool, not reused.
    const forget = (): void => {
      const index = this.#idle.findIndex((idle) => idle.socket === socket);

      if (index !== -1) {
        this.#idle.splice(index, 1);
      }

      socket.destroy();
    };

    socket.once('end', forget);
    socket.once('close', forget);
    socket.once('error', forget);
    this.#idle.push({ socket, forget });
  }
}

const FAILED: Exchange = { answer: undefined, reusable: false };

// A complete answer, or undefined while more bytes are due. `ended`: the server closed.
function readExchange(data: Buffer, ended: boolean): Exchange | undefined {
  const headEnd = data.indexOf(HEAD_END);

  if (headEnd === -1) {
    return ended ? FAILED : undefined;
  }

  const head = data.subarray(0, headEnd).toString('latin1');
  const status = STATUS_LINE.exec(head)?.[1];

  // Beckon's broker listener never sends chunked answers; a stand-in must not guess at one.
  if (status === undefined || CHUNKED.test(head)) {
    return FAILED;
  }

  const bodyStart = headEnd + HEAD_END.length;
  const declared = CONTENT_LENGTH.exec(head)?.[1];

  if (declared === undefined) {
    return ended
      ? { answer: answerOf(status, data.subarray(bodyStart)), reusable: false }
      : undefined;
  }

  const bodyEnd = bodyStart + Number(declared);

  if (data.length < bodyEnd) {
    return ended ? FAILED : undefined;
  }

  return {
    answer: answerOf(status, data.subarray(bodyStart, bodyEnd)),
    reusable: !ended && data.length === bodyEnd && !CLOSES.test(head),
  };
}

function answerOf(status: string, body: Buffer): PoolAnswer {
  return { status: Number(status), body };
}
