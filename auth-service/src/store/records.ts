import type { PublicJwk } from '@beckon/shared';
import type { AclAccess, AclSubject, PrincipalKind } from '../directory/types.js';

// Rows as the rest of the service sees them. Times are milliseconds since the epoch.

export interface PrincipalRecord {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly enabled: boolean;
  readonly superuser: boolean;
  readonly groups: readonly string[];
  /** Apps only: the key their credentials certify, pinned by an admin or on first use. */
  readonly publicJwk?: PublicJwk;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface GroupRecord {
  readonly name: string;
  readonly members: readonly string[];
  readonly createdAt: number;
}

export interface GrantRecord {
  readonly id: string;
  readonly appId: string;
  readonly agents: readonly string[];
  readonly groups: readonly string[];
  readonly actions?: readonly string[];
  readonly createdAt: number;
}

export interface RuleRecord {
  readonly id: string;
  readonly subject: AclSubject;
  readonly pattern: string;
  readonly access: readonly AclAccess[];
  readonly effect: 'allow' | 'deny';
  readonly createdAt: number;
}

export interface EnrollTokenRecord {
  readonly id: string;
  /** SHA-256 of the token; the token itself is shown once and never stored. */
  readonly digest: string;
  readonly expiresAt: number;
  readonly usesAllowed: number;
  readonly usesCount: number;
  readonly groups: readonly string[];
  /** When set, the token enrolls (or re-keys) exactly this agent. */
  readonly agentId?: string;
  readonly createdAt: number;
  readonly revokedAt?: number;
}

export type TrustKeyStatus = 'active' | 'retiring';

export interface TrustKeyRecord {
  readonly kid: string;
  readonly alg: 'EdDSA' | 'ES256';
  readonly publicJwk: PublicJwk;
  /** The private JWK as JSON text; see docs/auth-service.md for what protects it at rest. */
  readonly privateJwk: string;
  readonly status: TrustKeyStatus;
  readonly createdAt: number;
  readonly retiredAt?: number;
}

export interface AdminTokenRecord {
  readonly id: string;
  readonly name: string;
  readonly digest: string;
  readonly createdAt: number;
  readonly revokedAt?: number;
}

export interface AuditRecord {
  readonly revision: number;
  readonly seq: number;
  readonly at: number;
  /** Who: `admin:<token id>`, `app:<id>`, `enroll:<token id>`, `cli`, `service`. */
  readonly actor: string;
  /** What, as `<resource>.<verb>`, e.g. `agent.create`. */
  readonly action: string;
  readonly target: string;
  /** Extra facts; never a secret, hash or token. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface AuditEntry {
  readonly action: string;
  readonly target: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}
