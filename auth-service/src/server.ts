import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { createAdminRouter } from './admin-api/admin-router.js';
import { createBrokerChecks } from './broker/broker-checks.js';
import { BROKER_SERVER_OPTIONS } from './broker/listen.js';
import type { WireChecks } from './broker/wire/wire-connection.js';
import { createBrokerWireServer } from './broker/wire/wire-server.js';
import { describeReason } from './decide/decision.js';
import { apiResponseCounter } from './metrics/api-metrics.js';
import { MetricsRegistry } from './metrics/registry.js';
import type { ExplainResult } from './admin-api/trust-audit-routes.js';
import type { AuthServiceConfig } from './config/schema.js';
import { StoreDirectory } from './directory/store-directory.js';
import type { AclAccess, DirectorySource } from './directory/types.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { startListener, type FrontServer, type Listener } from './http/listener.js';
import { Router } from './http/router.js';
import { createPublicRouter } from './public-api/public-router.js';
import { createLoginThrottles, type ServiceContext } from './service-context.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { ensureTrustRoot } from './trust/ensure-trust-root.js';

/**
 * What the service needs from the broker-facing half: it answers the plug's and go-auth's
 * requests on the broker listener and explains decisions for the admin API.
 */
export interface BrokerChecks {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /**
   * When given, the broker listener reads broker checks itself (the lean path) and gives only
   * the other requests to `handle`; without it, node:http serves every request.
   */
  readonly wire?: WireChecks;
  explain(username: string, topic: string, access: AclAccess): ExplainResult;
  close(): void | Promise<void>;
}

export interface BrokerChecksContext {
  readonly directory: DirectorySource;
  readonly config: AuthServiceConfig;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

/** Builds the broker checks once the directory is loaded. */
export type BrokerChecksFactory = (
  context: BrokerChecksContext,
) => BrokerChecks | Promise<BrokerChecks>;

/** The decision engine and its HTTP adapters (broker/), explained in words for the admin API. */
export const defaultBrokerChecks: BrokerChecksFactory = ({
  directory,
  config,
  logger,
  metrics,
}) => {
  const checks = createBrokerChecks({ directory, options: config.brokerChecks, logger, metrics });

  return {
    handle: (req, res) => {
      checks.handle(req, res);
    },
    wire: checks,
    explain: (username, topic, access) => {
      const decision = checks.explain(username, topic, access);

      return {
        allowed: decision.allowed,
        reason: describeReason(decision.reason),
        ...(decision.rule === undefined ? {} : { rule: decision.rule }),
      };
    },
    close: () => {
      checks.close();
    },
  };
};

export interface StartAuthServiceOptions {
  /** Already validated (`loadConfig`). */
  readonly config: AuthServiceConfig;
  readonly logger: Logger;
  /** Defaults to the real decision engine (`defaultBrokerChecks`). */
  readonly brokerChecks?: BrokerChecksFactory;
  /** The process's metrics, served at `/metrics` on the admin listener; a new one by default. */
  readonly metrics?: MetricsRegistry;
  /** Install SIGTERM/SIGINT handlers that shut the service down (the CLI's `serve` does). */
  readonly handleSignals?: boolean;
}

export interface AuthService {
  /** Bound ports; `broker` only when broker checks were injected. */
  readonly ports: { readonly admin: number; readonly public: number; readonly broker: number };
  readonly store: Store;
  readonly directory: StoreDirectory;
  /** Resolves when the service has stopped, by `close()` or a signal. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

// The broker listener belongs to the broker checks, except for the health endpoints.
function brokerHandler(checks: BrokerChecks, health: RequestHandler): RequestHandler {
  return (req, res) => {
    if (HEALTH_PATHS.has(req.url ?? '')) {
      health(req, res);
    } else {
      checks.handle(req, res);
    }
  };
}

// The lean reader answers broker checks; health paths (even one configured as a broker URI,
// as before) and everything else go to node:http and brokerHandler.
function brokerFront(
  wire: WireChecks | undefined,
  logger: Logger,
): ((fallback: Server) => FrontServer) | undefined {
  if (wire === undefined) {
    return undefined;
  }

  const checks: WireChecks = {
    route: (target) => (HEALTH_PATHS.has(target) ? undefined : wire.route(target)),
    check: (route, input) => wire.check(route, input),
    options: wire.options,
  };

  return (fallback) => createBrokerWireServer({ checks, fallback, logger });
}

// Starts each listener that has a handler; if one cannot bind, those already started stop.
async function startListeners(
  config: AuthServiceConfig,
  logger: Logger,
  handlers: { admin: RequestHandler; public: RequestHandler; broker?: RequestHandler },
  wire: WireChecks | undefined,
): Promise<Listener[]> {
  const listeners: Listener[] = [];

  try {
    for (const name of ['admin', 'public', 'broker'] as const) {
      const handle = handlers[name];

      if (handle !== undefined) {
        // The broker listener gets the broker's server settings (a 16 KiB broker JWT fits in
        // its headers), the same the broker checks get when they listen on their own.
        const server = name === 'broker' ? BROKER_SERVER_OPTIONS : undefined;
        const front = name === 'broker' ? brokerFront(wire, logger) : undefined;
        listeners.push(
          await startListener({
            name,
            ...config.listeners[name],
            logger,
            handle,
            ...(server === undefined ? {} : { server }),
            ...(front === undefined ? {} : { front }),
          }),
        );
      }
    }

    return listeners;
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close()));

    throw error;
  }
}

// The store, the directory over it (with a trust root), and the broker checks reading it.
async function openParts(
  options: StartAuthServiceOptions,
  metrics: MetricsRegistry,
): Promise<{
  store: Store;
  directory: StoreDirectory;
  checks: BrokerChecks;
}> {
  const { config, logger } = options;
  const store = await openStore(config.store, logger);
  let directory: StoreDirectory | undefined;

  try {
    await ensureTrustRoot(store);
    directory = await StoreDirectory.open(store, config.issuer, logger);

    const checks = await (options.brokerChecks ?? defaultBrokerChecks)({
      directory,
      config,
      logger,
      metrics,
    });

    return { store, directory, checks };
  } catch (error) {
    directory?.close();
    await store.close();

    throw error;
  }
}

/** Opens the store, loads the directory and starts the listeners. */
export async function startAuthService(options: StartAuthServiceOptions): Promise<AuthService> {
  const { config, logger } = options;
  const metrics = options.metrics ?? new MetricsRegistry();
  const { store, directory, checks } = await openParts(options, metrics);
  const context: ServiceContext = {
    config,
    store,
    directory,
    logger,
    failedLogins: createLoginThrottles(config),
  };
  const ready = (): Promise<boolean> => store.ping();
  const countAnswer = apiResponseCounter(metrics);
  const adminRouter = createAdminRouter(
    context,
    {
      ready,
      explain: checks.explain.bind(checks),
      renderMetrics: () => metrics.render(),
      onAnswer: countAnswer('admin'),
    },
    logger,
  );
  const publicRouter = createPublicRouter(context, ready, logger, countAnswer('public'));
  const healthRouter = new Router(logger, { onAnswer: countAnswer('health') });

  registerHealthRoutes(healthRouter, ready);

  let listeners: Listener[];

  try {
    listeners = await startListeners(
      config,
      logger,
      {
        admin: (req, res) => void adminRouter.handle(req, res),
        public: (req, res) => void publicRouter.handle(req, res),
        broker: brokerHandler(checks, (req, res) => void healthRouter.handle(req, res)),
      },
      checks.wire,
    );
  } catch (error) {
    await checks.close();
    directory.close();
    await store.close();

    throw error;
  }

  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;

  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down');
    void close();
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (options.handleSignals === true) {
        for (const signal of SHUTDOWN_SIGNALS) {
          process.off(signal, onSignal);
        }
      }

      await Promise.all(listeners.map((listener) => listener.close()));
      await checks.close();
      directory.close();
      await store.close();
      logger.info('stopped');
      resolveClosed();
    })();

    return closing;
  };

  if (options.handleSignals === true) {
    for (const signal of SHUTDOWN_SIGNALS) {
      process.on(signal, onSignal);
    }
  }

  const port = (name: string): number | undefined =>
    listeners.find((listener) => listener.name === name)?.port;

  return {
    ports: {
      admin: port('admin') ?? 0,
      public: port('public') ?? 0,
      broker: port('broker') ?? 0,
    },
    store,
    directory,
    closed,
    close,
  };
}
