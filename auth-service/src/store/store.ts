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
import type { PrincipalKind } from '../directory/types.js';

/** Everything a transaction may read. */
export interface StoreReader {
  revision(): Promise<number>;
  getPrincipal(id: string): Promise<PrincipalRecord | undefined>;
  listPrincipals(kind?: PrincipalKind): Promise<PrincipalRecord[]>;
  getSecretHash(id: string): Promise<string | undefined>;
  /** Every stored hash by principal id, for the in-memory directory. */
  listSecretHashes(): Promise<Map<string, string>>;
  getGroup(name: string): Promise<GroupRecord | undefined>;
  listGroups(): Promise<GroupRecord[]>;
  getGrant(id: string): Promise<GrantRecord | undefined>;
  listGrants(appId?: string): Promise<GrantRecord[]>;
  getRule(id: string): Promise<RuleRecord | undefined>;
  listRules(): Promise<RuleRecord[]>;
  getEnrollToken(id: string): Promise<EnrollTokenRecord | undefined>;
  findEnrollToken(digest: string): Promise<EnrollTokenRecord | undefined>;
  listEnrollTokens(): Promise<EnrollTokenRecord[]>;
  listTrustKeys(): Promise<TrustKeyRecord[]>;
  findAdminToken(digest: string): Promise<AdminTokenRecord | undefined>;
  listAdminTokens(): Promise<AdminTokenRecord[]>;
  /** Newest first; `beforeRevision` pages backwards. */
  listAudit(limit: number, beforeRevision?: number): Promise<AuditRecord[]>;
}

export interface NewPrincipal {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly enabled: boolean;
  readonly superuser: boolean;
  readonly secretHash: string;
}

export interface PrincipalPatch {
  readonly enabled?: boolean;
  readonly superuser?: boolean;
  /** `null` clears the pinned key. */
  readonly publicJwk?: PrincipalRecord['publicJwk'] | null;
}

/** What a transaction may change; every write happens inside `Store.mutate`. */
export interface StoreWriter extends StoreReader {
  insertPrincipal(principal: NewPrincipal): Promise<void>;
  updatePrincipal(id: string, patch: PrincipalPatch): Promise<void>;
  /** Also removes its secret, memberships, an app's grants and rules naming it. */
  deletePrincipal(id: string): Promise<void>;
  setSecretHash(id: string, hash: string): Promise<void>;
  /** Creates the group when it does not exist; true when it was created. */
  ensureGroup(name: string): Promise<boolean>;
  deleteGroup(name: string): Promise<void>;
  /** True when the principal was not a member before. */
  addMember(group: string, principalId: string): Promise<boolean>;
  removeMember(group: string, principalId: string): Promise<boolean>;
  insertGrant(grant: Omit<GrantRecord, 'createdAt'>): Promise<void>;
  deleteGrant(id: string): Promise<void>;
  insertRule(rule: Omit<RuleRecord, 'createdAt'>): Promise<void>;
  deleteRule(id: string): Promise<void>;
  insertEnrollToken(token: Omit<EnrollTokenRecord, 'createdAt' | 'usesCount'>): Promise<void>;
  /** Counts one use; false when none was left (another replica took the last one). */
  consumeEnrollToken(id: string, now: number): Promise<boolean>;
  revokeEnrollToken(id: string, now: number): Promise<void>;
  insertTrustKey(key: Omit<TrustKeyRecord, 'createdAt' | 'retiredAt'>): Promise<void>;
  setTrustKeyStatus(kid: string, status: TrustKeyStatus, now: number): Promise<void>;
  deleteTrustKey(kid: string): Promise<void>;
  insertAdminToken(token: Omit<AdminTokenRecord, 'createdAt' | 'revokedAt'>): Promise<void>;
  revokeAdminToken(id: string, now: number): Promise<void>;
  /** Records what this transaction changed; a transaction without an entry changes nothing. */
  audit(entry: AuditEntry): Promise<void>;
}

export type RevisionListener = (revision: number) => void | Promise<void>;

/** The service's persistent state. One interface, SQLite and PostgreSQL behind it. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** A consistent read. */
  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T>;
  /**
   * One change, all or nothing: bumps the revision, runs `fn`, commits, then awaits every
   * revision listener (so callers see their change in the directory when this resolves).
   * When `fn` throws, or records no audit entry, nothing is kept.
   */
  mutate<T>(actor: string, fn: (writer: StoreWriter) => Promise<T>): Promise<T>;
  /** Called after local commits and when another process or replica committed a change. */
  onRevision(listener: RevisionListener): () => void;
  /** True when a trivial query succeeds. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
