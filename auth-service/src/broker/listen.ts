import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrokerChecks } from './broker-checks.js';

/** The plug gives up on a request after 10 s; an answer later than that helps nobody. */
export const BROKER_REQUEST_TIMEOUT_MS = 10_000;
/** Headers come in one small packet; a slow trickle is not the broker. */
export const BROKER_HEADERS_TIMEOUT_MS = 5_000;
/** The plug opens a new connection per check; an idle kept-alive socket is closed soon. */
export const BROKER_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Room for a 16 KiB broker JWT in `Authorization` (Node's default is 16 KiB in total). */
export const BROKER_MAX_HEADER_BYTES = 32_768;

export interface BrokerListener {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** Stops accepting, drops open connections and resolves once the server is closed. */
  close(): Promise<void>;
}

/** What the broker's traffic needs from an http.Server (the service's listener uses it too). */
export const BROKER_SERVER_OPTIONS: Readonly<ServerOptions> = Object.freeze({
  // The broker waits on every answer: never let Nagle hold one back (PERFORMANCE.md).
  noDelay: true,
  requestTimeout: BROKER_REQUEST_TIMEOUT_MS,
  headersTimeout: BROKER_HEADERS_TIMEOUT_MS,
  keepAliveTimeout: BROKER_KEEP_ALIVE_TIMEOUT_MS,
  maxHeaderSize: BROKER_MAX_HEADER_BYTES,
});

/** Creates the http.Server for broker checks with the settings the broker's traffic needs. */
export function createBrokerServer(checks: BrokerChecks): Server {
  return createServer(BROKER_SERVER_OPTIONS, (request, response) => {
    checks.handle(request, response);
  });
}

/** Listens for broker checks on `host:port` (port 0 picks a free one). */
export async function listenBrokerChecks(
  checks: BrokerChecks,
  options: { readonly host?: string; readonly port?: number } = {},
): Promise<BrokerListener> {
  const server = createBrokerServer(checks);
  const host = options.host ?? '127.0.0.1';

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;

  return {
    server,
    host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error === undefined) {
            resolve();
          } else {
            reject(error);
          }
        });
        server.closeAllConnections();
      }),
  };
}
