import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { AnswerBytes } from './answer-bytes.js';
import { WireLimits, type WireLimitsInput } from './limits.js';
import { WireConnection, type WireChecks, type WireContext } from './wire-connection.js';

/** The sweep looks at every connection this many times per shortest timeout... */
const SWEEPS_PER_TIMEOUT = 5;
/** ...but at least this often (a 5 s timeout fires within 6 s)... */
const MAX_SWEEP_INTERVAL_MS = 1_000;
/** ...and at most this often (tests use timeouts of a few tens of milliseconds). */
const MIN_SWEEP_INTERVAL_MS = 5;

export interface BrokerWireOptions {
  readonly checks: WireChecks;
  /**
   * Serves every request that is not a broker check (health endpoints, unknown paths): the
   * connection is handed to it at that request. It never listens itself.
   */
  readonly fallback: HttpServer;
  readonly logger: Logger;
  readonly limits?: WireLimitsInput;
  /** Milliseconds since the epoch, for the `Date` header (tests pin it). */
  readonly now?: () => number;
}

/** A listener whose connections start on the lean path and may end up in node:http. */
export interface BrokerWireServer {
  readonly server: Server;
  /**
   * Stops accepting; idle connections go now, busy ones after their answers. Resolves once
   * every connection has closed.
   */
  close(): Promise<void>;
  /** Destroys every open connection, ours and those handed to node:http. */
  closeAllConnections(): void;
}

/**
 * The broker-check listener without node:http on the hot path: the plug's request is read,
 * checked and answered by a small HTTP/1.1 reader of our own (`WireConnection`), so a check
 * costs about what a bare answer costs. Not listening yet: call `server.listen`.
 */
export function createBrokerWireServer(options: BrokerWireOptions): BrokerWireServer {
  const limits = Object.freeze(WireLimits.parse(options.limits ?? {}));
  const { fallback } = options;
  const connections = new Set<WireConnection>();
  const context: WireContext = {
    checks: options.checks,
    limits,
    answers: new AnswerBytes(options.now),
    logger: options.logger,
    connections,
    handOff: (socket: Socket) => {
      fallback.emit('connection', socket);
    },
  };
  // node:http tracks its connections (and enforces its headers and request timeouts on them)
  // from 'listening' on; the fallback never listens itself, so it is told it does.
  fallback.emit('listening');

  // allowHalfOpen: a peer that sends its request and closes its side still gets the answer.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    connections.add(new WireConnection(socket, context));
  });
  const shortest = Math.min(
    limits.headersTimeoutMs,
    limits.requestTimeoutMs,
    limits.keepAliveTimeoutMs,
  );
  const interval = Math.min(
    MAX_SWEEP_INTERVAL_MS,
    Math.max(MIN_SWEEP_INTERVAL_MS, Math.floor(shortest / SWEEPS_PER_TIMEOUT)),
  );
  const sweep = setInterval(() => {
    const now = performance.now();

    for (const connection of connections) {
      connection.expire(now);
    }
  }, interval);
  sweep.unref();

  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweep);
        // Its own close: it stops tracking, and closes its idle connections.
        fallback.close();
        server.close(() => {
          resolve();
        });

        for (const connection of connections) {
          connection.drain();
        }
      }),
    closeAllConnections: () => {
      for (const connection of connections) {
        connection.destroy();
      }

      fallback.closeAllConnections();
    },
  };
}
