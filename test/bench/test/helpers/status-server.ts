import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** What the server does with a request: answer a status, now or once the promise settles. */
export type Answer = number | Promise<number> | 'hang up';

export interface Arrival {
  /** `performance.now()` when the connection was accepted (this process's clock). */
  readonly at: number;
  readonly request: Buffer;
}

/**
 * A raw TCP server on 127.0.0.1, port 0, with just enough HTTP for the load generator: the
 * generator half-closes after its request, so a request is everything before the end of the
 * stream, and the answer is a status line and an empty body, then the server closes.
 */
export class StatusServer {
  readonly arrivals: Arrival[] = [];
  /** Connections accepted, whether or not they were answered. */
  connections = 0;
  /** The most connections accepted and not yet answered at one time. */
  mostUnanswered = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #unanswered = 0;

  private constructor(answer: (request: Buffer, at: number) => Answer) {
    this.#server = createServer({ allowHalfOpen: true }, (socket) => {
      const at = performance.now();
      const chunks: Buffer[] = [];

      this.connections += 1;
      this.#unanswered += 1;
      this.mostUnanswered = Math.max(this.mostUnanswered, this.#unanswered);
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.once('end', () => {
        const request = Buffer.concat(chunks);
        this.arrivals.push({ at, request });
        this.#reply(socket, answer(request, at));
      });
    });
  }

  static async start(answer: (request: Buffer, at: number) => Answer): Promise<StatusServer> {
    const server = new StatusServer(answer);
    server.#server.listen(0, '127.0.0.1');
    await once(server.#server, 'listening');

    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) {
      socket.destroy();
    }

    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #reply(socket: Socket, answer: Answer): void {
    if (answer === 'hang up') {
      this.#unanswered -= 1;
      socket.end();
      return;
    }

    void Promise.resolve(answer).then((status) => {
      this.#unanswered -= 1;
      socket.end(`HTTP/1.1 ${status} \r\ncontent-length: 0\r\n\r\n`);
    });
  }
}
