import { createServer, type Server as HttpServer, type ServerOptions } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { pino, type Logger } from 'pino';
import type { BrokerChecks } from './broker-checks.js';
import {
  BROKER_HEADERS_TIMEOUT_MS,
  BROKER_KEEP_ALIVE_TIMEOUT_MS,
  BROKER_MAX_HEADER_BYTES,
  BROKER_REQUEST_TIMEOUT_MS,
  type WireLimitsInput,
} from './wire/limits.js';
import { createBrokerWireServer } from './wire/wire-server.js';

export {
  BROKER_HEADERS_TIMEOUT_MS,
  BROKER_KEEP_ALIVE_TIMEOUT_MS,
  BROKER_MAX_HEADER_BYTES,
  BROKER_REQUEST_TIMEOUT_MS,
};

export interface BrokerListener {
  /** The listening server: the lean broker-check reader, node:http behind it for the rest. */
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

/**
 * A node:http server answering broker checks through `checks.handle`: for embedding, and
 * behind the lean listener for every request that is not a broker check (a 404).
 */
export function createBrokerServer(checks: BrokerChecks): HttpServer {
  return createServer(BROKER_SERVER_OPTIONS, (request, response) => {
    checks.handle(request, response);
  });
}

/** Listens for broker checks on `host:port` (port 0 picks a free one). */
export async function listenBrokerChecks(
  checks: BrokerChecks,
  options: {
    readonly host?: string;
    readonly port?: number;
    /** Connection-level events at debug (refused heads, resets); silent by default. */
    readonly logger?: Logger;
    /** Timeouts and the head limit; the defaults suit the broker. */
    readonly limits?: WireLimitsInput;
  } = {},
): Promise<BrokerListener> {
  const wire = createBrokerWireServer({
    checks,
    fallback: createBrokerServer(checks),
    logger: options.logger ?? pino({ level: 'silent' }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  const { server } = wire;
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
    close: async () => {
      const closed = wire.close();
      wire.closeAllConnections();
      await closed;
    },
  };
}
