import { ApiError } from '../http/api-error.js';
import type { Router } from '../http/router.js';
import { parseInput } from '../http/validate.js';
import type { ServiceContext } from '../service-context.js';
import { activateTrustKey, createTrustKey } from '../trust/trust-keys.js';
import { asAdmin, ok } from './admin-handler.js';
import { AuditQuery, ExplainQuery, KidParam, queryObject } from './schemas.js';
import { auditView, trustKeyView } from './views.js';

/** Answers "why would this check be allowed or denied", from the broker-check module. */
export type ExplainFunction = (
  username: string,
  topic: string,
  access: 'read' | 'write' | 'subscribe',
) => ExplainResult;

export interface ExplainResult {
  readonly allowed: boolean;
  readonly reason: string;
  /** The rule that decided, when one did (its id, or the rule itself). */
  readonly rule?: unknown;
}

/** The trust root: show, rotate (with overlap), retire a retiring key. */
export function registerTrustRoutes(router: Router, context: ServiceContext): void {
  const { store, config } = context;

  router.add(
    'GET',
    '/v1/trust',
    asAdmin(context, async () => {
      const keys = await store.read((reader) => reader.listTrustKeys());

      return ok({ issuer: config.issuer, keys: keys.map(trustKeyView) });
    }),
  );

  router.add(
    'POST',
    '/v1/trust/rotate',
    asAdmin(context, async (actor) => {
      const key = await createTrustKey();
      const retiring = await store.mutate(actor, async (writer) => {
        const retired = await activateTrustKey(writer, key);

        await writer.audit({
          action: 'trust.rotate',
          target: `trust-key:${key.kid}`,
          detail: { retiring: retired },
        });

        return retired;
      });

      return ok({ active: key.kid, retiring }, 201);
    }),
  );

  router.add(
    'DELETE',
    '/v1/trust/keys/:kid',
    asAdmin(context, async (actor, request) => {
      const { kid } = parseInput(KidParam, request.params, 'path');

      await store.mutate(actor, async (writer) => {
        const key = (await writer.listTrustKeys()).find((candidate) => candidate.kid === kid);

        if (key === undefined) {
          throw new ApiError('not_found', `trust key ${kid} does not exist`);
        }

        if (key.status === 'active') {
          throw new ApiError('conflict', 'the active key cannot be retired; rotate first');
        }

        await writer.deleteTrustKey(kid);
        await writer.audit({ action: 'trust.retire', target: `trust-key:${kid}` });
      });

      return ok({ kid, removed: true });
    }),
  );
}

export function registerAuditRoutes(
  router: Router,
  context: ServiceContext,
  explain: ExplainFunction | undefined,
): void {
  router.add(
    'GET',
    '/v1/audit',
    asAdmin(context, async (_actor, request) => {
      const { limit, before } = parseInput(AuditQuery, queryObject(request.query), 'query');
      const entries = await context.store.read((reader) => reader.listAudit(limit, before));

      return ok({ entries: entries.map(auditView) });
    }),
  );

  router.add(
    'GET',
    '/v1/explain',
    asAdmin(context, (_actor, request) => {
      const query = parseInput(ExplainQuery, queryObject(request.query), 'query');

      if (explain === undefined) {
        throw new ApiError('unavailable', 'broker checks are not configured in this service');
      }

      const result = explain(query.username, query.topic, query.access);

      return Promise.resolve(ok({ ...query, ...result }));
    }),
  );
}
