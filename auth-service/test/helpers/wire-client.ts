import { connect, type Socket } from 'node:net';

export interface WireResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  /** The response exactly as it came off the wire. */
  readonly raw: string;
}

const HEAD_END = '\r\n\r\n';
const RESPONSE_WAIT_MS = 5_000;

/**
 * One raw TCP connection to a listener: bytes go out exactly as given, responses are read in
 * order as they arrive. For keep-alive, pipelining and framing tests.
 */
export class WireClient {
  readonly #socket: Socket;
  #received = '';
  #waiters: (() => void)[] = [];
  /** Resolves when the server closed the connection (or it failed). */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#received += chunk;
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#wake();
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new WireClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get socket(): Socket {
    return this.#socket;
  }

  /** Whether the server has closed the connection. */
  get isClosed(): boolean {
    return this.#socket.destroyed || this.#socket.readableEnded;
  }

  write(bytes: string | Buffer): void {
    this.#socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Sends one byte per write, each after the previous one reached the kernel. */
  async trickle(bytes: string | Buffer): Promise<void> {
    const all = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;

    for (let index = 0; index < all.length; index += 1) {
      await new Promise<void>((resolve) => {
        this.#socket.write(all.subarray(index, index + 1), () => {
          resolve();
        });
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The next `count` responses, in order; rejects if they do not come. */
  async responses(count: number): Promise<WireResponse[]> {
    const deadline = Date.now() + RESPONSE_WAIT_MS;
    const found: WireResponse[] = [];

    while (found.length < count) {
      const next = this.#take();

      if (next !== undefined) {
        found.push(next);
        continue;
      }

      if (this.#socket.destroyed || Date.now() > deadline) {
        throw new Error(`expected ${count} responses, got ${found.length}: ${this.#received}`);
      }

      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RESPONSE_WAIT_MS);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }

    return found;
  }

  async response(): Promise<WireResponse> {
    const [first] = await this.responses(1);

    return first!;
  }

  /** Everything received and not yet read as a response. */
  get unread(): string {
    return this.#received;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];

    for (const wake of waiters) {
      wake();
    }
  }

  #take(): WireResponse | undefined {
    const text = this.#received;
    const headEnd = text.indexOf(HEAD_END);

    if (headEnd === -1) {
      return undefined;
    }

    const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1]);
    const headers = new Map(
      lines.map((line) => {
        const colon = line.indexOf(':');

        return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
      }),
    );
    // An interim 100 has no body; every final answer here carries Content-Length.
    const length = status === 100 ? 0 : Number(headers.get('content-length') ?? 'NaN');
    const end = headEnd + HEAD_END.length + length;

    if (Number.isNaN(length) || text.length < end) {
      return undefined;
    }

    this.#received = text.slice(end);

    return {
      status,
      headers,
      body: Buffer.from(text.slice(headEnd + HEAD_END.length, end), 'latin1').toString('utf8'),
      raw: text.slice(0, end),
    };
  }
}
