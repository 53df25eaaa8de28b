import { ApiError } from '../http/api-error.js';
import type { Router } from '../http/router.js';
import { parseInput } from '../http/validate.js';
import type { ServiceContext } from '../service-context.js';
import { asAdmin, ok, requirePrincipal } from './admin-handler.js';
import { newRecordId } from './record-id.js';
import {
  CreateGrantBody,
  CreateRuleBody,
  GrantsQuery,
  queryObject,
  RecordIdParam,
} from './schemas.js';
import { grantView, ruleView } from './views.js';

/** Grants (app -> agents and groups, optionally limited to actions). */
export function registerGrantRoutes(router: Router, context: ServiceContext): void {
  const { store } = context;

  router.add(
    'GET',
    '/v1/grants',
    asAdmin(context, async (_actor, request) => {
      const { appId } = parseInput(GrantsQuery, queryObject(request.query), 'query');
      const grants = await store.read((reader) => reader.listGrants(appId));

      return ok({ grants: grants.map(grantView) });
    }),
  );

  router.add(
    'POST',
    '/v1/grants',
    asAdmin(context, async (actor, request) => {
      const body = parseInput(CreateGrantBody, await request.body(), 'body');
      const id = newRecordId('gr');
      const grant = await store.mutate(actor, async (writer) => {
        await requirePrincipal(writer, body.appId, 'app');
        await writer.insertGrant({
          id,
          appId: body.appId,
          agents: body.agents ?? [],
          groups: body.groups ?? [],
          ...(body.actions === undefined ? {} : { actions: body.actions }),
        });
        await writer.audit({
          action: 'grant.create',
          target: `grant:${id}`,
          detail: {
            appId: body.appId,
            agents: body.agents ?? [],
            groups: body.groups ?? [],
            ...(body.actions === undefined ? {} : { actions: body.actions }),
          },
        });

        return writer.getGrant(id);
      });

      return ok({ grant: grant === undefined ? undefined : grantView(grant) }, 201);
    }),
  );

  router.add(
    'DELETE',
    '/v1/grants/:id',
    asAdmin(context, async (actor, request) => {
      const { id } = parseInput(RecordIdParam, request.params, 'path');

      await store.mutate(actor, async (writer) => {
        const grant = await writer.getGrant(id);

        if (grant === undefined) {
          throw new ApiError('not_found', `grant ${id} does not exist`);
        }

        await writer.deleteGrant(id);
        await writer.audit({
          action: 'grant.remove',
          target: `grant:${id}`,
          detail: { appId: grant.appId },
        });
      });

      return ok({ id, removed: true });
    }),
  );
}

/** Extra ACL rules for other uses of the broker. */
export function registerRuleRoutes(router: Router, context: ServiceContext): void {
  const { store } = context;

  router.add(
    'GET',
    '/v1/rules',
    asAdmin(context, async () => {
      const rules = await store.read((reader) => reader.listRules());

      return ok({ rules: rules.map(ruleView) });
    }),
  );

  router.add(
    'POST',
    '/v1/rules',
    asAdmin(context, async (actor, request) => {
      const body = parseInput(CreateRuleBody, await request.body(), 'body');
      const id = newRecordId('ru');
      const rule = await store.mutate(actor, async (writer) => {
        await writer.insertRule({ id, ...body });
        await writer.audit({
          action: 'rule.create',
          target: `rule:${id}`,
          detail: { ...body },
        });

        return writer.getRule(id);
      });

      return ok({ rule: rule === undefined ? undefined : ruleView(rule) }, 201);
    }),
  );

  router.add(
    'DELETE',
    '/v1/rules/:id',
    asAdmin(context, async (actor, request) => {
      const { id } = parseInput(RecordIdParam, request.params, 'path');

      await store.mutate(actor, async (writer) => {
        if ((await writer.getRule(id)) === undefined) {
          throw new ApiError('not_found', `rule ${id} does not exist`);
        }

        await writer.deleteRule(id);
        await writer.audit({ action: 'rule.remove', target: `rule:${id}` });
      });

      return ok({ id, removed: true });
    }),
  );
}
