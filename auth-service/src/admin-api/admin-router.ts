import type { Logger } from 'pino';
import { registerHealthRoutes, type ReadinessCheck } from '../http/health-routes.js';
import { ApiError } from '../http/api-error.js';
import { Router } from '../http/router.js';
import type { ServiceContext } from '../service-context.js';
import { registerAppRoutes } from './app-routes.js';
import { registerEnrollTokenRoutes } from './enroll-token-routes.js';
import { registerGrantRoutes, registerRuleRoutes } from './grant-rule-routes.js';
import { registerGroupRoutes } from './group-routes.js';
import { registerPrincipalRoutes } from './principal-routes.js';
import {
  registerAuditRoutes,
  registerTrustRoutes,
  type ExplainFunction,
} from './trust-audit-routes.js';

export interface AdminRouterOptions {
  readonly ready: ReadinessCheck;
  readonly explain?: ExplainFunction;
  /** Prometheus text for `/metrics`; without it `/metrics` is 404. */
  readonly renderMetrics?: () => string;
  /** Told the status of every answer (see apiResponseCounter). */
  readonly onAnswer?: (status: number) => void;
}

/** Every route of the admin listener. */
export function createAdminRouter(
  context: ServiceContext,
  options: AdminRouterOptions,
  logger: Logger,
): Router {
  const router = new Router(
    logger,
    options.onAnswer === undefined ? {} : { onAnswer: options.onAnswer },
  );

  registerHealthRoutes(router, options.ready);
  registerPrincipalRoutes(router, context);
  registerGroupRoutes(router, context);
  registerGrantRoutes(router, context);
  registerRuleRoutes(router, context);
  registerEnrollTokenRoutes(router, context);
  registerTrustRoutes(router, context);
  registerAuditRoutes(router, context, options.explain);
  registerAppRoutes(router, context);

  router.add('GET', '/metrics', () => {
    if (options.renderMetrics === undefined) {
      throw new ApiError('not_found', 'metrics are not configured in this service');
    }

    return Promise.resolve({
      status: 200,
      raw: Buffer.from(options.renderMetrics(), 'utf8'),
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
    });
  });

  return router;
}
