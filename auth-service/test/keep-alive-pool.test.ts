import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepAlivePool } from '../src/plug-client/keep-alive-pool.js';

// The pool under GoAuthClient: answers read by Content-Length or up to the close, connections
// reused only when the answer leaves them usable, and a connection the server dropped while it
// sat idle replaced without failing the request.

const REQUEST = Buffer.from('POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n');
const TIMEOUT_MS = 2_000;

/** A raw server that answers each request with whatever `reply` returns for it. */
class RawServer {
  connections = 0;
  readonly sockets = new Set<Socket>();
  reply: (socket: Socket, count: number) => void = (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  };
  readonly #server: Server;

  constructor() {
    this.#server = createServer((socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let count = 0;
      socket.on('data', () => {
        count += 1;
        this.reply(socket, count);
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();

    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }

    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

let server: RawServer;
let pool: KeepAlivePool;

async function start(maxIdle = 2): Promise<void> {
  server = new RawServer();
  pool = new KeepAlivePool('127.0.0.1', await server.listen(), maxIdle);
}

afterEach(async () => {
  pool.close();
  await server.close();
});

describe('KeepAlivePool', () => {
  it('reuses one connection for requests one after another', async () => {
    await start();

    for (let n = 0; n < 5; n += 1) {
      const answer = await pool.request(REQUEST, TIMEOUT_MS);
      expect(answer?.status).toBe(200);
      expect(answer?.body.toString()).toBe('ok');
    }

    expect(server.connections).toBe(1);
  });

  it('keeps at most maxIdle connections after concurrent requests', async () => {
    await start(2);
    await Promise.all(Array.from({ length: 6 }, () => pool.request(REQUEST, TIMEOUT_MS)));
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(server.connections).toBe(6);
    expect(server.sockets.size).toBe(2);
  });

  it('reads an answer split over many writes', async () => {
    await start();
    server.reply = (socket) => {
      const bytes = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!';

      for (const char of bytes) {
        socket.write(char);
      }
    };

    const answer = await pool.request(REQUEST, TIMEOUT_MS);

    expect(answer?.status).toBe(403);
    expect(answer?.body.toString()).toBe('nope!');
  });

  it('does not reuse a connection the answer closes', async () => {
    await start();
    server.reply = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    };

    await pool.request(REQUEST, TIMEOUT_MS);
    await pool.request(REQUEST, TIMEOUT_MS);

    expect(server.connections).toBe(2);
  });

  it('reads an answer without a length up to the close', async () => {
    await start();
    server.reply = (socket) => {
      socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    };

    const answer = await pool.request(REQUEST, TIMEOUT_MS);

    expect(answer?.body.toString()).toBe('until the end');
  });

  it('replaces an idle connection the server dropped, without failing the request', async () => {
    await start();
    await pool.request(REQUEST, TIMEOUT_MS);
    // The server drops it without the client hearing yet: the next write finds it gone.
    server.reply = (socket, count) => {
      if (count === 1) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      } else {
        socket.destroy();
      }
    };

    const answer = await pool.request(REQUEST, TIMEOUT_MS);

    expect(answer?.status).toBe(200);
    expect(server.connections).toBe(2);
  });

  it('has no answer for a refused connection, a cut-off answer or a silent server', async () => {
    await start();
    server.reply = (socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
    };
    expect(await pool.request(REQUEST, TIMEOUT_MS)).toBeUndefined();

    server.reply = (socket) => {
      socket.end('garbage\r\n\r\n');
    };
    expect(await pool.request(REQUEST, TIMEOUT_MS)).toBeUndefined();

    server.reply = () => undefined;
    expect(await pool.request(REQUEST, 100)).toBeUndefined();

    await server.close();
    const refused = new KeepAlivePool('127.0.0.1', 1, 2);
    expect(await refused.request(REQUEST, TIMEOUT_MS)).toBeUndefined();
    server = new RawServer();
  });

  it('refuses a chunked answer rather than guessing at it', async () => {
    await start();
    server.reply = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    };

    expect(await pool.request(REQUEST, TIMEOUT_MS)).toBeUndefined();
  });
});
