import { ApiError } from '../http/api-error.js';
import type { Router } from '../http/router.js';
import { parseInput } from '../http/validate.js';
import { generateToken } from '../secrets/generate-secret.js';
import { tokenDigest } from '../secrets/token-digest.js';
import type { ServiceContext } from '../service-context.js';
import { asAdmin, ok } from './admin-handler.js';
import { newRecordId } from './record-id.js';
import { CreateEnrollTokenBody, RecordIdParam } from './schemas.js';
import { enrollTokenView } from './views.js';

/** The prefix of enrollment tokens, so one pasted into the wrong place is recognisable. */
export const ENROLL_TOKEN_PREFIX = 'bet';

/** One-time (or n-time) tokens an installer trades for an agent's credentials. */
export function registerEnrollTokenRoutes(router: Router, context: ServiceContext): void {
  const { store } = context;

  router.add(
    'GET',
    '/v1/enroll-tokens',
    asAdmin(context, async () => {
      const tokens = await store.read((reader) => reader.listEnrollTokens());
      const now = Date.now();

      return ok({ enrollTokens: tokens.map((token) => enrollTokenView(token, now)) });
    }),
  );

  router.add(
    'POST',
    '/v1/enroll-tokens',
    asAdmin(context, async (actor, request) => {
      const body = parseInput(CreateEnrollTokenBody, (await request.body()) ?? {}, 'body');
      const token = generateToken(ENROLL_TOKEN_PREFIX);
      const id = newRecordId('et');
      const record = await store.mutate(actor, async (writer) => {
        const fixed =
          body.agentId === undefined ? undefined : await writer.getPrincipal(body.agentId);

        if (fixed !== undefined && fixed.kind !== 'agent') {
          throw new ApiError('conflict', `${body.agentId ?? ''} is an app, not an agent`);
        }

        await writer.insertEnrollToken({
          id,
          digest: tokenDigest(token),
          expiresAt: Date.now() + body.expiresInSeconds * 1_000,
          usesAllowed: body.uses,
          groups: body.groups,
          ...(body.agentId === undefined ? {} : { agentId: body.agentId }),
        });
        await writer.audit({
          action: 'enroll-token.create',
          target: `enroll-token:${id}`,
          detail: {
            uses: body.uses,
            groups: body.groups,
            expiresInSeconds: body.expiresInSeconds,
            ...(body.agentId === undefined ? {} : { agentId: body.agentId }),
          },
        });

        return writer.getEnrollToken(id);
      });

      if (record === undefined) {
        throw new ApiError('internal_error', 'enrollment token vanished after creation');
      }

      return ok({ enrollToken: enrollTokenView(record, Date.now()), token }, 201);
    }),
  );

  router.add(
    'DELETE',
    '/v1/enroll-tokens/:id',
    asAdmin(context, async (actor, request) => {
      const { id } = parseInput(RecordIdParam, request.params, 'path');
      const record = await store.mutate(actor, async (writer) => {
        const before = await writer.getEnrollToken(id);

        if (before === undefined) {
          throw new ApiError('not_found', `enrollment token ${id} does not exist`);
        }

        if (before.revokedAt === undefined) {
          await writer.revokeEnrollToken(id, Date.now());
          await writer.audit({ action: 'enroll-token.revoke', target: `enroll-token:${id}` });
        }

        return writer.getEnrollToken(id);
      });

      return ok({
        enrollToken: record === undefined ? undefined : enrollTokenView(record, Date.now()),
      });
    }),
  );
}
