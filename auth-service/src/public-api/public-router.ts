import type { Logger } from 'pino';
import { tooManyRequests } from '../http/api-error.js';
import { registerHealthRoutes, type ReadinessCheck } from '../http/health-routes.js';
import { RateLimiter } from '../http/keyed-limits.js';
import { Router } from '../http/router.js';
import type { ServiceContext } from '../service-context.js';
import { registerAgentTrustRoute } from './agent-trust-route.js';
import { registerEnrollRoute } from './enroll-route.js';
import { registerStaticRoutes } from './static-files.js';

/** The public listener: enroll, agent trust refresh, install files; rate-limited per source. */
export function createPublicRouter(
  context: ServiceContext,
  ready: ReadinessCheck,
  logger: Logger,
  onAnswer?: (status: number) => void,
): Router {
  const limiter = new RateLimiter(context.config.publicLimits);
  const router = new Router(logger, {
    before: (req) => {
      const wait = limiter.take(req.socket.remoteAddress ?? 'unknown');

      if (wait > 0) {
        throw tooManyRequests(wait);
      }
    },
    ...(onAnswer === undefined ? {} : { onAnswer }),
  });

  registerHealthRoutes(router, ready);
  registerEnrollRoute(router, context);
  registerAgentTrustRoute(router, context);
  registerStaticRoutes(router, context.config.staticDir, context.config.publicUrl);

  return router;
}
