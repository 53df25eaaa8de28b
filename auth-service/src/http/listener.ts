import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Logger } from 'pino';

/** A slow client may not hold a connection open by trickling its headers or body. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** On shutdown, in-flight requests get this long before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface Listener {
  readonly name: string;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (up to a grace period), then resolves. */
  close(): Promise<void>;
}

/** A server that takes the connections in front of the node:http one (the broker listener's). */
export interface FrontServer {
  readonly server: NetServer;
  /** Stops accepting and resolves once its connections have closed. */
  close(): Promise<void>;
  closeAllConnections(): void;
}

export async function startListener(options: {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Replaces the default timeouts (the broker listener brings its own). */
  readonly server?: Readonly<ServerOptions>;
  /** Listens in front of the node:http server, which then only gets what it is handed. */
  readonly front?: (server: Server) => FrontServer;
}): Promise<Listener> {
  const http: Server = createServer(
    options.server ?? { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    options.handle,
  );

  http.on('clientError', (_err, socket) => {
    if (socket.writable) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    } else {
      socket.destroy();
    }
  });

  const front = options.front?.(http);
  const server = front?.server ?? http;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;

  options.logger.info({ listener: options.name, host: options.host, port }, 'listening');

  return {
    name: options.name,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => (front ?? http).closeAllConnections(), SHUTDOWN_GRACE_MS);
        const done = (): void => {
          clearTimeout(force);
          resolve();
        };

        force.unref();

        if (front === undefined) {
          http.close(done);
          http.closeIdleConnections();
        } else {
          void front.close().then(done);
        }
      }),
  };
}
