import { ApiError } from '../http/api-error.js';
import type { Router } from '../http/router.js';
import { parseInput } from '../http/validate.js';
import type { ServiceContext } from '../service-context.js';
import type { GroupRecord } from '../store/records.js';
import type { StoreReader } from '../store/store.js';
import { asAdmin, ok, requirePrincipal } from './admin-handler.js';
import { CreateGroupBody, MemberParams, NameParam } from './schemas.js';
import { groupView } from './views.js';

async function requireGroup(reader: StoreReader, name: string): Promise<GroupRecord> {
  const group = await reader.getGroup(name);

  if (group === undefined) {
    throw new ApiError('not_found', `group ${name} does not exist`);
  }

  return group;
}

/** Groups and their members. Grants and rules may name a group before it has members. */
export function registerGroupRoutes(router: Router, context: ServiceContext): void {
  const { store } = context;

  router.add(
    'GET',
    '/v1/groups',
    asAdmin(context, async () => {
      const groups = await store.read((reader) => reader.listGroups());

      return ok({ groups: groups.map(groupView) });
    }),
  );

  router.add(
    'POST',
    '/v1/groups',
    asAdmin(context, async (actor, request) => {
      const { name } = parseInput(CreateGroupBody, await request.body(), 'body');
      const group = await store.mutate(actor, async (writer) => {
        if (!(await writer.ensureGroup(name))) {
          throw new ApiError('conflict', `group ${name} already exists`);
        }

        await writer.audit({ action: 'group.create', target: `group:${name}` });

        return requireGroup(writer, name);
      });

      return ok({ group: groupView(group) }, 201);
    }),
  );

  router.add(
    'GET',
    '/v1/groups/:name',
    asAdmin(context, async (_actor, request) => {
      const { name } = parseInput(NameParam, request.params, 'path');
      const group = await store.read((reader) => requireGroup(reader, name));

      return ok({ group: groupView(group) });
    }),
  );

  router.add(
    'DELETE',
    '/v1/groups/:name',
    asAdmin(context, async (actor, request) => {
      const { name } = parseInput(NameParam, request.params, 'path');

      await store.mutate(actor, async (writer) => {
        await requireGroup(writer, name);
        await writer.deleteGroup(name);
        await writer.audit({ action: 'group.remove', target: `group:${name}` });
      });

      return ok({ name, removed: true });
    }),
  );

  router.add(
    'PUT',
    '/v1/groups/:name/members/:id',
    asAdmin(context, async (actor, request) => {
      const { name, id } = parseInput(MemberParams, request.params, 'path');
      const group = await store.mutate(actor, async (writer) => {
        const principal = await requirePrincipal(writer, id);

        if (await writer.addMember(name, id)) {
          await writer.audit({
            action: 'group.add-member',
            target: `group:${name}`,
            detail: { member: `${principal.kind}:${id}` },
          });
        }

        return requireGroup(writer, name);
      });

      return ok({ group: groupView(group) });
    }),
  );

  router.add(
    'DELETE',
    '/v1/groups/:name/members/:id',
    asAdmin(context, async (actor, request) => {
      const { name, id } = parseInput(MemberParams, request.params, 'path');
      const group = await store.mutate(actor, async (writer) => {
        await requireGroup(writer, name);

        if (!(await writer.removeMember(name, id))) {
          throw new ApiError('not_found', `${id} is not a member of group ${name}`);
        }

        await writer.audit({
          action: 'group.remove-member',
          target: `group:${name}`,
          detail: { member: id },
        });

        return requireGroup(writer, name);
      });

      return ok({ group: groupView(group) });
    }),
  );
}
