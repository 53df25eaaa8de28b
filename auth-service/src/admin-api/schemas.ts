import { ActionName, AgentId, AppId, GroupName, PrincipalId, PublicJwk } from '@beckon/shared';
import { z } from 'zod';
import { TopicPattern } from './topic-pattern.js';

// Bodies and queries of the admin API. Strict objects: an unknown field is an error, not ignored.

const MAX_GROUPS = 256;
const MAX_AGENTS_PER_GRANT = 1_000;
const MAX_ACTIONS = 256;
const SECONDS_PER_DAY = 86_400;

export const IdParam = z.strictObject({ id: PrincipalId });
export const NameParam = z.strictObject({ name: GroupName });
export const MemberParams = z.strictObject({ name: GroupName, id: PrincipalId });
export const RecordIdParam = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'must use only letters, digits, "_" and "-"' }),
});
export const KidParam = z.strictObject({
  kid: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_-]+$/, { error: 'must use only letters, digits, "_" and "-"' }),
});

const Groups = z.array(GroupName).max(MAX_GROUPS);

export const CreateAgentBody = z.strictObject({
  id: AgentId,
  groups: Groups.optional(),
  superuser: z.boolean().optional(),
});

export const CreateAppBody = z.strictObject({
  id: AppId,
  groups: Groups.optional(),
  superuser: z.boolean().optional(),
  /** Pins the app's signing key up front instead of on first use. */
  publicJwk: PublicJwk.optional(),
});

export type CreateAppBody = z.infer<typeof CreateAppBody>;

export const AppKeyBody = z.strictObject({ publicJwk: PublicJwk });

export const CreateGroupBody = z.strictObject({ name: GroupName });

export const CreateGrantBody = z
  .strictObject({
    appId: AppId,
    agents: z.array(AgentId).max(MAX_AGENTS_PER_GRANT).optional(),
    groups: Groups.optional(),
    actions: z.array(ActionName).min(1).max(MAX_ACTIONS).optional(),
  })
  .refine((grant) => (grant.agents?.length ?? 0) + (grant.groups?.length ?? 0) > 0, {
    error: 'a grant must name at least one agent or group',
  });

export const GrantsQuery = z.strictObject({ appId: AppId.optional() });

const AclAccessName = z.enum(['read', 'write', 'subscribe']);

export const CreateRuleBody = z.strictObject({
  subject: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('principal'), id: PrincipalId }),
    z.strictObject({ kind: z.literal('group'), name: GroupName }),
    z.strictObject({ kind: z.literal('all') }),
  ]),
  pattern: TopicPattern,
  access: z
    .array(AclAccessName)
    .min(1)
    .max(3)
    .refine((list) => new Set(list).size === list.length, { error: 'must not repeat an access' }),
  effect: z.enum(['allow', 'deny']).default('allow'),
});

export const CreateEnrollTokenBody = z.strictObject({
  /** Default one day; at most thirty. */
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(30 * SECONDS_PER_DAY)
    .default(SECONDS_PER_DAY),
  uses: z.number().int().min(1).max(10_000).default(1),
  groups: Groups.default([]),
  /** Enrolls (or re-keys) exactly this agent. */
  agentId: AgentId.optional(),
});

export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  before: z.coerce.number().int().min(1).optional(),
});

export const ExplainQuery = z.strictObject({
  username: z.string().min(1).max(1_024),
  topic: z.string().min(1).max(65_535),
  access: AclAccessName,
});

export const AppAgentsQuery = z.strictObject({ group: GroupName.optional() });

/** Turns URL query parameters into an object, refusing repeated keys. */
export function queryObject(query: URLSearchParams): Record<string, string> {
  const result: Record<string, string> = {};

  for (const [key, value] of query) {
    if (Object.hasOwn(result, key)) {
      result[`${key} (repeated)`] = value;
    } else {
      result[key] = value;
    }
  }

  return result;
}
