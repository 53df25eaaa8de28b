import { ApiError } from '../http/api-error.js';
import type { Router } from '../http/router.js';
import { parseInput } from '../http/validate.js';
import { generateSecret } from '../secrets/generate-secret.js';
import { hashGeneratedSecret } from '../secrets/generated-secret-hash.js';
import type { ServiceContext } from '../service-context.js';
import type { PrincipalKind } from '../directory/types.js';
import { asAdmin, ok, requirePrincipal } from './admin-handler.js';
import { AppKeyBody, CreateAgentBody, CreateAppBody, IdParam } from './schemas.js';
import { principalView } from './views.js';

/** Agents and apps: add, list, show, disable, enable, remove, rotate-secret (+ app keys). */
export function registerPrincipalRoutes(router: Router, context: ServiceContext): void {
  registerKind(router, context, 'agent');
  registerKind(router, context, 'app');
  registerAppKeyRoutes(router, context);
  registerSuperuserRoutes(router, context);
}

function registerKind(router: Router, context: ServiceContext, kind: PrincipalKind): void {
  const base = `/v1/${kind}s`;
  const { store } = context;

  router.add(
    'GET',
    base,
    asAdmin(context, async () => {
      const records = await store.read((reader) => reader.listPrincipals(kind));

      return ok({ [`${kind}s`]: records.map(principalView) });
    }),
  );

  router.add(
    'POST',
    base,
    asAdmin(context, async (actor, request) => {
      const raw = await request.body();
      const body: CreateAppBody =
        kind === 'agent'
          ? parseInput(CreateAgentBody, raw, 'body')
          : parseInput(CreateAppBody, raw, 'body');
      const secret = generateSecret();
      const secretHash = hashGeneratedSecret(secret);
      const record = await store.mutate(actor, async (writer) => {
        if ((await writer.getPrincipal(body.id)) !== undefined) {
          throw new ApiError('conflict', `principal ${body.id} already exists`);
        }

        await writer.insertPrincipal({
          id: body.id,
          kind,
          enabled: true,
          superuser: body.superuser ?? false,
          secretHash,
        });

        for (const group of body.groups ?? []) {
          await writer.addMember(group, body.id);
        }

        if (body.publicJwk !== undefined) {
          await writer.updatePrincipal(body.id, { publicJwk: body.publicJwk });
        }

        await writer.audit({
          action: `${kind}.create`,
          target: `${kind}:${body.id}`,
          detail: { groups: body.groups ?? [], superuser: body.superuser ?? false },
        });

        return requirePrincipal(writer, body.id);
      });

      return ok({ [kind]: principalView(record), secret }, 201);
    }),
  );

  router.add(
    'GET',
    `${base}/:id`,
    asAdmin(context, async (_actor, request) => {
      const { id } = parseInput(IdParam, request.params, 'path');
      const record = await store.read((reader) => requirePrincipal(reader, id, kind));

      return ok({ [kind]: principalView(record) });
    }),
  );

  router.add(
    'DELETE',
    `${base}/:id`,
    asAdmin(context, async (actor, request) => {
      const { id } = parseInput(IdParam, request.params, 'path');

      await store.mutate(actor, async (writer) => {
        await requirePrincipal(writer, id, kind);
        await writer.deletePrincipal(id);
        await writer.audit({ action: `${kind}.remove`, target: `${kind}:${id}` });
      });

      return ok({ id, removed: true });
    }),
  );

  for (const enabled of [true, false]) {
    router.add(
      'POST',
      `${base}/:id/${enabled ? 'enable' : 'disable'}`,
      asAdmin(context, async (actor, request) => {
        const { id } = parseInput(IdParam, request.params, 'path');
        const record = await store.mutate(actor, async (writer) => {
          const before = await requirePrincipal(writer, id, kind);

          if (before.enabled !== enabled) {
            await writer.updatePrincipal(id, { enabled });
            await writer.audit({
              action: `${kind}.${enabled ? 'enable' : 'disable'}`,
              target: `${kind}:${id}`,
            });
          }

          return requirePrincipal(writer, id);
        });

        return ok({ [kind]: principalView(record) });
      }),
    );
  }

  router.add(
    'POST',
    `${base}/:id/rotate-secret`,
    asAdmin(context, async (actor, request) => {
      const { id } = parseInput(IdParam, request.params, 'path');
      const secret = generateSecret();
      const secretHash = hashGeneratedSecret(secret);

      await store.mutate(actor, async (writer) => {
        await requirePrincipal(writer, id, kind);
        await writer.setSecretHash(id, secretHash);
        await writer.audit({ action: `${kind}.rotate-secret`, target: `${kind}:${id}` });
      });

      return ok({ id, secret });
    }),
  );
}

function registerAppKeyRoutes(router: Router, context: ServiceContext): void {
  const { store } = context;

  router.add(
    'PUT',
    '/v1/apps/:id/key',
    asAdmin(context, async (actor, request) => {
      const { id } = parseInput(IdParam, request.params, 'path');
      const { publicJwk } = parseInput(AppKeyBody, await request.body(), 'body');
      const record = await store.mutate(actor, async (writer) => {
        await requirePrincipal(writer, id, 'app');
        await writer.updatePrincipal(id, { publicJwk });
        await writer.audit({ action: 'app.key-set', target: `app:${id}` });

        return requirePrincipal(writer, id);
      });

      return ok({ app: principalView(record) });
    }),
  );

  router.add(
    'DELETE',
    '/v1/apps/:id/key',
    asAdmin(context, async (actor, request) => {
      const { id } = parseInput(IdParam, request.params, 'path');
      const record = await store.mutate(actor, async (writer) => {
        await requirePrincipal(writer, id, 'app');
        await writer.updatePrincipal(id, { publicJwk: null });
        await writer.audit({ action: 'app.key-clear', target: `app:${id}` });

        return requirePrincipal(writer, id);
      });

      return ok({ app: principalView(record) });
    }),
  );
}

function registerSuperuserRoutes(router: Router, context: ServiceContext): void {
  const { store } = context;

  router.add(
    'GET',
    '/v1/superusers',
    asAdmin(context, async () => {
      const records = await store.read((reader) => reader.listPrincipals());

      return ok({ superusers: records.filter((record) => record.superuser).map(principalView) });
    }),
  );

  for (const superuser of [true, false]) {
    router.add(
      superuser ? 'PUT' : 'DELETE',
      '/v1/superusers/:id',
      asAdmin(context, async (actor, request) => {
        const { id } = parseInput(IdParam, request.params, 'path');
        const record = await store.mutate(actor, async (writer) => {
          const before = await requirePrincipal(writer, id);

          if (before.superuser !== superuser) {
            await writer.updatePrincipal(id, { superuser });
            await writer.audit({
              action: superuser ? 'superuser.add' : 'superuser.remove',
              target: `${before.kind}:${id}`,
            });
          }

          return requirePrincipal(writer, id);
        });

        return ok({ principal: principalView(record) });
      }),
    );
  }
}
