import type { PublicJwk } from '@beckon/shared';

// The in-memory picture of who exists and who may do what. The store produces it (and a new
// one after every change); the decision engine answers the broker from it without touching the
// store. These types are the seam between the two halves of the auth-service.

export type PrincipalKind = 'agent' | 'app';

/** An MQTT identity. `id` is the MQTT username and a valid `PrincipalId`. */
export interface Principal {
  readonly id: string;
  readonly kind: PrincipalKind;
  /** Disabled principals cannot connect and every check for them is denied. */
  readonly enabled: boolean;
  /** Superusers pass every ACL check (the plug's superuser request answers 200). */
  readonly superuser: boolean;
  readonly groups: readonly string[];
}

/** What an app may command: agents by id or by group, optionally limited to actions. */
export interface AppGrant {
  readonly id: string;
  readonly appId: string;
  readonly agents: readonly string[];
  readonly groups: readonly string[];
  /** Undefined: every action. Enforced by the agent; the broker sees only topics. */
  readonly actions?: readonly string[];
}

export type AclAccess = 'read' | 'write' | 'subscribe';

export type AclSubject =
  | { readonly kind: 'principal'; readonly id: string }
  | { readonly kind: 'group'; readonly name: string }
  | { readonly kind: 'all' };

/**
 * An extra rule for other uses of the broker. `pattern` may use `+`, `#` and `%u` (the
 * username). Deny rules win over allow rules; built-in role permissions are not rules.
 */
export interface AclRule {
  readonly id: string;
  readonly subject: AclSubject;
  readonly pattern: string;
  readonly access: readonly AclAccess[];
  readonly effect: 'allow' | 'deny';
}

/** A public key of the trust root, as published to agents and used to verify broker JWTs. */
export interface TrustKey {
  readonly kid: string;
  readonly publicJwk: PublicJwk;
  /** `active` signs new tokens; `retiring` still verifies during a rotation. */
  readonly status: 'active' | 'retiring';
}

export interface DirectorySnapshot {
  /** Grows with every committed change; caches keyed on an older revision are stale. */
  readonly revision: number;
  readonly principals: ReadonlyMap<string, Principal>;
  readonly grants: readonly AppGrant[];
  readonly rules: readonly AclRule[];
  readonly trustKeys: readonly TrustKey[];
  /** `iss` of tokens the service signs (credentials, broker JWTs). */
  readonly issuer: string;
}

/** What the decision engine needs from the store. */
export interface DirectorySource {
  /** The current snapshot; cheap, never a store round trip. */
  current(): DirectorySnapshot;
  /** Called after every change is committed (here or on another replica). Returns unsubscribe. */
  onChange(listener: (snapshot: DirectorySnapshot) => void): () => void;
  /**
   * Checks an MQTT password against the stored hash (slow hash, constant-time compare).
   * Resolves false for unknown or disabled principals; never throws for a wrong password.
   */
  verifySecret(username: string, password: string): Promise<boolean>;
  /**
   * An opaque value that changes whenever this principal's stored secret changes (rotated,
   * re-enrolled, removed); undefined when it has none. Lets a cache of verified secrets forget
   * only the principals a directory change concerns.
   */
  secretStamp(username: string): string | undefined;
}
