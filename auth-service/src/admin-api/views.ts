import type {
  AuditRecord,
  EnrollTokenRecord,
  GrantRecord,
  GroupRecord,
  PrincipalRecord,
  RuleRecord,
  TrustKeyRecord,
} from '../store/records.js';

// How records look in admin API answers: ISO times, never a hash, digest or private key.

function iso(millis: number): string {
  return new Date(millis).toISOString();
}

export function principalView(record: PrincipalRecord) {
  return {
    id: record.id,
    kind: record.kind,
    enabled: record.enabled,
    superuser: record.superuser,
    groups: record.groups,
    ...(record.publicJwk === undefined ? {} : { publicJwk: record.publicJwk }),
    createdAt: iso(record.createdAt),
    updatedAt: iso(record.updatedAt),
  };
}

export function groupView(record: GroupRecord) {
  return { name: record.name, members: record.members, createdAt: iso(record.createdAt) };
}

export function grantView(record: GrantRecord) {
  return {
    id: record.id,
    appId: record.appId,
    agents: record.agents,
    groups: record.groups,
    ...(record.actions === undefined ? {} : { actions: record.actions }),
    createdAt: iso(record.createdAt),
  };
}

export function ruleView(record: RuleRecord) {
  return {
    id: record.id,
    subject: record.subject,
    pattern: record.pattern,
    access: record.access,
    effect: record.effect,
    createdAt: iso(record.createdAt),
  };
}

export type EnrollTokenState = 'active' | 'used' | 'expired' | 'revoked';

export function enrollTokenState(record: EnrollTokenRecord, now: number): EnrollTokenState {
  if (record.revokedAt !== undefined) {
    return 'revoked';
  }

  if (record.usesCount >= record.usesAllowed) {
    return 'used';
  }

  return record.expiresAt <= now ? 'expired' : 'active';
}

export function enrollTokenView(record: EnrollTokenRecord, now: number) {
  return {
    id: record.id,
    state: enrollTokenState(record, now),
    expiresAt: iso(record.expiresAt),
    usesAllowed: record.usesAllowed,
    usesCount: record.usesCount,
    groups: record.groups,
    ...(record.agentId === undefined ? {} : { agentId: record.agentId }),
    createdAt: iso(record.createdAt),
    ...(record.revokedAt === undefined ? {} : { revokedAt: iso(record.revokedAt) }),
  };
}

export function trustKeyView(record: TrustKeyRecord) {
  return {
    kid: record.kid,
    alg: record.alg,
    status: record.status,
    publicJwk: record.publicJwk,
    createdAt: iso(record.createdAt),
    ...(record.retiredAt === undefined ? {} : { retiredAt: iso(record.retiredAt) }),
  };
}

export function auditView(record: AuditRecord) {
  return {
    revision: record.revision,
    seq: record.seq,
    at: iso(record.at),
    actor: record.actor,
    action: record.action,
    target: record.target,
    ...(record.detail === undefined ? {} : { detail: record.detail }),
  };
}
