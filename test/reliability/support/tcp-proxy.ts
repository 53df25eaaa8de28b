import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A TCP proxy in front of a real server, for faults the server itself cannot be asked to make:
 * cutting every connection at once (a network blip) and delaying every answer (a slow service).
 */
export class TcpProxy {
  readonly port: number;
  /** Added before each chunk travels from the server back to the client. */
  answerDelayMs = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });

    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const proxy = new TcpProxy(server, port);
    server.on('connection', (client) => proxy.#pipe(client, target));

    return proxy;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Drops every open connection, as a network blip would; new ones are still accepted. */
  dropConnections(): void {
    for (const socket of this.#sockets) {
      socket.destroy();
    }
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket, target: { host: string; port: number }): void {
    const upstream = connect({ host: target.host, port: target.port, noDelay: true });
    client.setNoDelay(true);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    let answers: Promise<void> = Promise.resolve();

    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      // Chunks keep their order however long each one waits.
      answers = answers.then(async () => {
        if (this.answerDelayMs > 0) {
          await sleep(this.answerDelayMs);
        }

        if (!client.destroyed) {
          client.write(chunk);
        }
      });
    });

    const closeBoth = (): void => {
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
      client.destroy();
      void answers.then(() => upstream.destroy());
    };

    client.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('end', () => void answers.then(() => client.end()));
    upstream.on('close', () => void answers.then(closeBoth));
    upstream.on('error', closeBoth);
  }
}
