import { PublicJwk } from '@beckon/shared';
import type { AclAccess, AclSubject, PrincipalKind } from '../directory/types.js';
import type {
  AdminTokenRecord,
  AuditEntry,
  AuditRecord,
  EnrollTokenRecord,
  GrantRecord,
  GroupRecord,
  PrincipalRecord,
  RuleRecord,
  TrustKeyRecord,
  TrustKeyStatus,
} from './records.js';
import type { SqlExecutor, SqlRow } from './sql-driver.js';
import type { NewPrincipal, PrincipalPatch, StoreWriter } from './store.js';

// Row <-> record mapping. PostgreSQL returns BIGINT as text, SQLite as a number: Number() both.

function num(value: unknown): number {
  return Number(value);
}

function optionalNum(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

// Columns read as text are TEXT in both dialects; anything else is a corrupt row.
function text(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }

  if (typeof value === 'number' || typeof value === 'bigint') {
    return value.toString();
  }

  throw new TypeError(`expected a text column, found ${typeof value}`);
}

function optionalText(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : text(value);
}

function jsonArray(value: unknown): string[] {
  const parsed: unknown = JSON.parse(text(value));

  return Array.isArray(parsed)
    ? parsed.filter((item): item is string => typeof item === 'string')
    : [];
}

function bool(value: unknown): boolean {
  return Number(value) === 1;
}

function toPrincipal(row: SqlRow, groups: readonly string[]): PrincipalRecord {
  const jwk = optionalText(row.public_jwk);

  return {
    id: text(row.id),
    kind: text(row.kind) as PrincipalKind,
    enabled: bool(row.enabled),
    superuser: bool(row.superuser),
    groups,
    ...(jwk === undefined ? {} : { publicJwk: PublicJwk.parse(JSON.parse(jwk)) }),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toGrant(row: SqlRow): GrantRecord {
  const actions = optionalText(row.actions_json);

  return {
    id: text(row.id),
    appId: text(row.app_id),
    agents: jsonArray(row.agents_json),
    groups: jsonArray(row.groups_json),
    ...(actions === undefined ? {} : { actions: jsonArray(actions) }),
    createdAt: num(row.created_at),
  };
}

function toSubject(row: SqlRow): AclSubject {
  const kind = text(row.subject_kind);

  if (kind === 'principal') {
    return { kind: 'principal', id: text(row.subject_value) };
  }

  return kind === 'group' ? { kind: 'group', name: text(row.subject_value) } : { kind: 'all' };
}

function subjectValue(subject: AclSubject): string | null {
  switch (subject.kind) {
    case 'principal':
      return subject.id;
    case 'group':
      return subject.name;
    case 'all':
      return null;
  }
}

function toRule(row: SqlRow): RuleRecord {
  return {
    id: text(row.id),
    subject: toSubject(row),
    pattern: text(row.pattern),
    access: jsonArray(row.access_json) as AclAccess[],
    effect: text(row.effect) === 'deny' ? 'deny' : 'allow',
    createdAt: num(row.created_at),
  };
}

function toEnrollToken(row: SqlRow): EnrollTokenRecord {
  const agentId = optionalText(row.agent_id);
  const revokedAt = optionalNum(row.revoked_at);

  return {
    id: text(row.id),
    digest: text(row.digest),
    expiresAt: num(row.expires_at),
    usesAllowed: num(row.uses_allowed),
    usesCount: num(row.uses_count),
    groups: jsonArray(row.groups_json),
    ...(agentId === undefined ? {} : { agentId }),
    createdAt: num(row.created_at),
    ...(revokedAt === undefined ? {} : { revokedAt }),
  };
}

function toTrustKey(row: SqlRow): TrustKeyRecord {
  const retiredAt = optionalNum(row.retired_at);

  return {
    kid: text(row.kid),
    alg: text(row.alg) === 'ES256' ? 'ES256' : 'EdDSA',
    publicJwk: PublicJwk.parse(JSON.parse(text(row.public_jwk))),
    privateJwk: text(row.private_jwk),
    status: text(row.status) as TrustKeyStatus,
    createdAt: num(row.created_at),
    ...(retiredAt === undefined ? {} : { retiredAt }),
  };
}

function toAdminToken(row: SqlRow): AdminTokenRecord {
  const revokedAt = optionalNum(row.revoked_at);

  return {
    id: text(row.id),
    name: text(row.name),
    digest: text(row.digest),
    createdAt: num(row.created_at),
    ...(revokedAt === undefined ? {} : { revokedAt }),
  };
}

function toAudit(row: SqlRow): AuditRecord {
  const detail = optionalText(row.detail_json);

  return {
    revision: num(row.revision),
    seq: num(row.seq),
    at: num(row.at),
    actor: text(row.actor),
    action: text(row.action),
    target: text(row.target),
    ...(detail === undefined
      ? {}
      : { detail: JSON.parse(detail) as Readonly<Record<string, unknown>> }),
  };
}

/** Reads and writes the store's tables inside one transaction. */
export class SqlAccess implements StoreWriter {
  readonly #sql: SqlExecutor;
  readonly #actor: string;
  readonly #revision: number;
  readonly #entries: AuditEntry[] = [];

  constructor(sql: SqlExecutor, actor = '', revision = 0) {
    this.#sql = sql;
    this.#actor = actor;
    this.#revision = revision;
  }

  /** What this transaction recorded, for the change log once it commits. */
  get entries(): readonly AuditEntry[] {
    return this.#entries;
  }

  async revision(): Promise<number> {
    const [row] = await this.#sql.all('SELECT revision FROM meta WHERE id = 1');

    return row === undefined ? 0 : num(row.revision);
  }

  async getPrincipal(id: string): Promise<PrincipalRecord | undefined> {
    const [row] = await this.#sql.all('SELECT * FROM principals WHERE id = ?', [id]);

    if (row === undefined) {
      return undefined;
    }

    const groups = await this.#sql.all(
      'SELECT group_name FROM memberships WHERE principal_id = ? ORDER BY group_name',
      [id],
    );

    return toPrincipal(
      row,
      groups.map((group) => text(group.group_name)),
    );
  }

  async listPrincipals(kind?: PrincipalKind): Promise<PrincipalRecord[]> {
    const rows =
      kind === undefined
        ? await this.#sql.all('SELECT * FROM principals ORDER BY id')
        : await this.#sql.all('SELECT * FROM principals WHERE kind = ? ORDER BY id', [kind]);
    const memberships = await this.#sql.all(
      'SELECT group_name, principal_id FROM memberships ORDER BY group_name',
    );
    const groupsOf = new Map<string, string[]>();

    for (const membership of memberships) {
      const id = text(membership.principal_id);
      const groups = groupsOf.get(id) ?? [];

      groups.push(text(membership.group_name));
      groupsOf.set(id, groups);
    }

    return rows.map((row) => toPrincipal(row, groupsOf.get(text(row.id)) ?? []));
  }

  async getSecretHash(id: string): Promise<string | undefined> {
    const [row] = await this.#sql.all('SELECT hash FROM secrets WHERE principal_id = ?', [id]);

    return row === undefined ? undefined : text(row.hash);
  }

  async listSecretHashes(): Promise<Map<string, string>> {
    const rows = await this.#sql.all('SELECT principal_id, hash FROM secrets');

    return new Map(rows.map((row) => [text(row.principal_id), text(row.hash)]));
  }

  async getGroup(name: string): Promise<GroupRecord | undefined> {
    const [row] = await this.#sql.all('SELECT * FROM principal_groups WHERE name = ?', [name]);

    if (row === undefined) {
      return undefined;
    }

    const members = await this.#sql.all(
      'SELECT principal_id FROM memberships WHERE group_name = ? ORDER BY principal_id',
      [name],
    );

    return {
      name,
      members: members.map((member) => text(member.principal_id)),
      createdAt: num(row.created_at),
    };
  }

  async listGroups(): Promise<GroupRecord[]> {
    const rows = await this.#sql.all('SELECT * FROM principal_groups ORDER BY name');
    const memberships = await this.#sql.all(
      'SELECT group_name, principal_id FROM memberships ORDER BY principal_id',
    );
    const membersOf = new Map<string, string[]>();

    for (const membership of memberships) {
      const group = text(membership.group_name);
      const members = membersOf.get(group) ?? [];

      members.push(text(membership.principal_id));
      membersOf.set(group, members);
    }

    return rows.map((row) => ({
      name: text(row.name),
      members: membersOf.get(text(row.name)) ?? [],
      createdAt: num(row.created_at),
    }));
  }

  async getGrant(id: string): Promise<GrantRecord | undefined> {
    const [row] = await this.#sql.all('SELECT * FROM grants WHERE id = ?', [id]);

    return row === undefined ? undefined : toGrant(row);
  }

  async listGrants(appId?: string): Promise<GrantRecord[]> {
    const rows =
      appId === undefined
        ? await this.#sql.all('SELECT * FROM grants ORDER BY created_at, id')
        : await this.#sql.all('SELECT * FROM grants WHERE app_id = ? ORDER BY created_at, id', [
            appId,
          ]);

    return rows.map(toGrant);
  }

  async getRule(id: string): Promise<RuleRecord | undefined> {
    const [row] = await this.#sql.all('SELECT * FROM acl_rules WHERE id = ?', [id]);

    return row === undefined ? undefined : toRule(row);
  }

  async listRules(): Promise<RuleRecord[]> {
    const rows = await this.#sql.all('SELECT * FROM acl_rules ORDER BY created_at, id');

    return rows.map(toRule);
  }

  async getEnrollToken(id: string): Promise<EnrollTokenRecord | undefined> {
    const [row] = await this.#sql.all('SELECT * FROM enroll_tokens WHERE id = ?', [id]);

    return row === undefined ? undefined : toEnrollToken(row);
  }

  async findEnrollToken(digest: string): Promise<EnrollTokenRecord | undefined> {
    const [row] = await this.#sql.all('SELECT * FROM enroll_tokens WHERE digest = ?', [digest]);

    return row === undefined ? undefined : toEnrollToken(row);
  }

  async listEnrollTokens(): Promise<EnrollTokenRecord[]> {
    const rows = await this.#sql.all('SELECT * FROM enroll_tokens ORDER BY created_at, id');

    return rows.map(toEnrollToken);
  }

  async listTrustKeys(): Promise<TrustKeyRecord[]> {
    const rows = await this.#sql.all('SELECT * FROM trust_keys ORDER BY created_at, kid');

    return rows.map(toTrustKey);
  }

  async findAdminToken(digest: string): Promise<AdminTokenRecord | undefined> {
    const [row] = await this.#sql.all('SELECT * FROM admin_tokens WHERE digest = ?', [digest]);

    return row === undefined ? undefined : toAdminToken(row);
  }

  async listAdminTokens(): Promise<AdminTokenRecord[]> {
    const rows = await this.#sql.all('SELECT * FROM admin_tokens ORDER BY created_at, id');

    return rows.map(toAdminToken);
  }

  async listAudit(limit: number, beforeRevision?: number): Promise<AuditRecord[]> {
    const rows =
      beforeRevision === undefined
        ? await this.#sql.all('SELECT * FROM audit_log ORDER BY revision DESC, seq DESC LIMIT ?', [
            limit,
          ])
        : await this.#sql.all(
            'SELECT * FROM audit_log WHERE revision < ? ORDER BY revision DESC, seq DESC LIMIT ?',
            [beforeRevision, limit],
          );

    return rows.map(toAudit);
  }

  async insertPrincipal(principal: NewPrincipal): Promise<void> {
    const now = Date.now();

    await this.#sql.run(
      `INSERT INTO principals (id, kind, enabled, superuser, public_jwk, created_at, updated_at)
       VALUES (?, ?, ?, ?, NULL, ?, ?)`,
      [
        principal.id,
        principal.kind,
        principal.enabled ? 1 : 0,
        principal.superuser ? 1 : 0,
        now,
        now,
      ],
    );
    await this.setSecretHash(principal.id, principal.secretHash);
  }

  async updatePrincipal(id: string, patch: PrincipalPatch): Promise<void> {
    const now = Date.now();

    if (patch.enabled !== undefined) {
      await this.#sql.run('UPDATE principals SET enabled = ?, updated_at = ? WHERE id = ?', [
        patch.enabled ? 1 : 0,
        now,
        id,
      ]);
    }

    if (patch.superuser !== undefined) {
      await this.#sql.run('UPDATE principals SET superuser = ?, updated_at = ? WHERE id = ?', [
        patch.superuser ? 1 : 0,
        now,
        id,
      ]);
    }

    if (patch.publicJwk !== undefined) {
      await this.#sql.run('UPDATE principals SET public_jwk = ?, updated_at = ? WHERE id = ?', [
        patch.publicJwk === null ? null : JSON.stringify(patch.publicJwk),
        now,
        id,
      ]);
    }
  }

  async deletePrincipal(id: string): Promise<void> {
    await this.#sql.run(
      "DELETE FROM acl_rules WHERE subject_kind = 'principal' AND subject_value = ?",
      [id],
    );
    // Secrets, memberships and the app's grants go with it (ON DELETE CASCADE).
    await this.#sql.run('DELETE FROM principals WHERE id = ?', [id]);
  }

  async setSecretHash(id: string, hash: string): Promise<void> {
    await this.#sql.run(
      `INSERT INTO secrets (principal_id, hash, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (principal_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
      [id, hash, Date.now()],
    );
  }

  async ensureGroup(name: string): Promise<boolean> {
    const changed = await this.#sql.run(
      'INSERT INTO principal_groups (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
      [name, Date.now()],
    );

    return changed > 0;
  }

  async deleteGroup(name: string): Promise<void> {
    await this.#sql.run(
      "DELETE FROM acl_rules WHERE subject_kind = 'group' AND subject_value = ?",
      [name],
    );
    await this.#sql.run('DELETE FROM principal_groups WHERE name = ?', [name]);
  }

  async addMember(group: string, principalId: string): Promise<boolean> {
    await this.ensureGroup(group);

    const changed = await this.#sql.run(
      `INSERT INTO memberships (group_name, principal_id) VALUES (?, ?)
       ON CONFLICT (group_name, principal_id) DO NOTHING`,
      [group, principalId],
    );

    return changed > 0;
  }

  async removeMember(group: string, principalId: string): Promise<boolean> {
    const changed = await this.#sql.run(
      'DELETE FROM memberships WHERE group_name = ? AND principal_id = ?',
      [group, principalId],
    );

    return changed > 0;
  }

  async insertGrant(grant: Omit<GrantRecord, 'createdAt'>): Promise<void> {
    await this.#sql.run(
      `INSERT INTO grants (id, app_id, agents_json, groups_json, actions_json, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [
        grant.id,
        grant.appId,
        JSON.stringify(grant.agents),
        JSON.stringify(grant.groups),
        grant.actions === undefined ? null : JSON.stringify(grant.actions),
        Date.now(),
      ],
    );
  }

  async deleteGrant(id: string): Promise<void> {
    await this.#sql.run('DELETE FROM grants WHERE id = ?', [id]);
  }

  async insertRule(rule: Omit<RuleRecord, 'createdAt'>): Promise<void> {
    await this.#sql.run(
      `INSERT INTO acl_rules
         (id, subject_kind, subject_value, pattern, access_json, effect, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        rule.id,
        rule.subject.kind,
        subjectValue(rule.subject),
        rule.pattern,
        JSON.stringify(rule.access),
        rule.effect,
        Date.now(),
      ],
    );
  }

  async deleteRule(id: string): Promise<void> {
    await this.#sql.run('DELETE FROM acl_rules WHERE id = ?', [id]);
  }

  async insertEnrollToken(
    token: Omit<EnrollTokenRecord, 'createdAt' | 'usesCount'>,
  ): Promise<void> {
    await this.#sql.run(
      `INSERT INTO enroll_tokens
         (id, digest, expires_at, uses_allowed, uses_count, groups_json, agent_id, created_at,
          revoked_at)
       VALUES (?, ?, ?, ?, 0, ?, ?, ?, NULL)`,
      [
        token.id,
        token.digest,
        token.expiresAt,
        token.usesAllowed,
        JSON.stringify(token.groups),
        token.agentId ?? null,
        Date.now(),
      ],
    );
  }

  async consumeEnrollToken(id: string, now: number): Promise<boolean> {
    // The conditions repeat the caller's checks so two replicas can never both take the last use.
    const changed = await this.#sql.run(
      `UPDATE enroll_tokens SET uses_count = uses_count + 1
       WHERE id = ? AND uses_count < uses_allowed AND expires_at > ? AND revoked_at IS NULL`,
      [id, now],
    );

    return changed > 0;
  }

  async revokeEnrollToken(id: string, now: number): Promise<void> {
    await this.#sql.run(
      'UPDATE enroll_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
      [now, id],
    );
  }

  async insertTrustKey(key: Omit<TrustKeyRecord, 'createdAt' | 'retiredAt'>): Promise<void> {
    await this.#sql.run(
      `INSERT INTO trust_keys (kid, alg, public_jwk, private_jwk, status, created_at, retired_at)
       VALUES (?, ?, ?, ?, ?, ?, NULL)`,
      [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateJwk, key.status, Date.now()],
    );
  }

  async setTrustKeyStatus(kid: string, status: TrustKeyStatus, now: number): Promise<void> {
    await this.#sql.run('UPDATE trust_keys SET status = ?, retired_at = ? WHERE kid = ?', [
      status,
      status === 'retiring' ? now : null,
      kid,
    ]);
  }

  async deleteTrustKey(kid: string): Promise<void> {
    await this.#sql.run('DELETE FROM trust_keys WHERE kid = ?', [kid]);
  }

  async insertAdminToken(token: Omit<AdminTokenRecord, 'createdAt' | 'revokedAt'>): Promise<void> {
    await this.#sql.run(
      `INSERT INTO admin_tokens (id, name, digest, created_at, revoked_at)
       VALUES (?, ?, ?, ?, NULL)`,
      [token.id, token.name, token.digest, Date.now()],
    );
  }

  async revokeAdminToken(id: string, now: number): Promise<void> {
    await this.#sql.run(
      'UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
      [now, id],
    );
  }

  async audit(entry: AuditEntry): Promise<void> {
    this.#entries.push(entry);
    await this.#sql.run(
      `INSERT INTO audit_log (revision, seq, at, actor, action, target, detail_json)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        this.#revision,
        this.#entries.length,
        Date.now(),
        this.#actor,
        entry.action,
        entry.target,
        entry.detail === undefined ? null : JSON.stringify(entry.detail),
      ],
    );
  }
}
