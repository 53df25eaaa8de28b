import { isPrincipalId } from '@beckon/shared';
import type { AclAccess, DirectorySnapshot, Principal } from '../directory/types.js';
import { allow, deny, ruleDecision, type CheckAccess, type Decision } from './decision.js';
import { DirectoryIndex } from './directory-index.js';
import { ruleHit } from './acl-rules.js';
import { rolePermission } from './role-permissions.js';
import { isTopicFilter, isTopicName, levelsOf } from './topic-match.js';

/**
 * The one place that decides what a username may do, for one directory snapshot. Pure and
 * synchronous: passwords and tokens are checked elsewhere, this only knows who exists and what
 * their roles, grants and rules allow. Deny by default.
 */
export class DecisionEngine {
  readonly index: DirectoryIndex;
  readonly #validIds = new Set<string>();

  constructor(snapshot: DirectorySnapshot) {
    this.index = new DirectoryIndex(snapshot);
  }

  get revision(): number {
    return this.index.revision;
  }

  /** Whether this username may log in at all, before its secret or token is looked at. */
  loginAllowed(username: string): Decision {
    const identified = this.#identify(username);

    return isRefusal(identified) ? identified : allow('login-allowed');
  }

  /** The plug's superuser question: a yes skips the ACL check entirely. */
  isSuperuser(username: string): Decision {
    const identified = this.#identify(username);

    if (isRefusal(identified)) {
      return identified;
    }

    return identified.superuser ? allow('superuser') : deny('not-superuser');
  }

  /**
   * May `username` read (receive on), write (publish to) or subscribe to `topic`? For
   * `subscribe`, `topic` is the filter as the client sent it.
   */
  checkAcl(username: string, topic: string, access: CheckAccess): Decision {
    const identified = this.#identify(username);

    if (isRefusal(identified)) {
      return identified;
    }

    if (identified.superuser) {
      return allow('superuser');
    }

    if (access === 'readwrite') {
      const read = this.#decide(identified, topic, 'read');

      return read.allowed ? this.#decide(identified, topic, 'write') : read;
    }

    return this.#decide(identified, topic, access);
  }

  /** The same answer as checkAcl, for `beckon-auth explain`: the decision names its cause. */
  explain(username: string, topic: string, access: CheckAccess): Decision {
    return this.checkAcl(username, topic, access);
  }

  /** The enabled principal behind a username, or the refusal that ends the check. */
  #identify(username: string): Principal | Decision {
    if (!this.#isPrincipalId(username)) {
      return deny('invalid-username');
    }

    const principal = this.index.principal(username);

    if (principal === undefined) {
      return deny('unknown-principal');
    }

    return principal.enabled ? principal : deny('disabled');
  }

  // The id check is a schema parse; a username the broker asks about is asked about again and
  // again, so each answer is kept for the snapshot's life (at most one entry per principal:
  // other usernames are not kept, so a flood of made-up names cannot grow the set).
  #isPrincipalId(username: string): boolean {
    if (this.#validIds.has(username)) {
      return true;
    }

    const valid = isPrincipalId(username);

    if (valid && this.index.principal(username) !== undefined) {
      this.#validIds.add(username);
    }

    return valid;
  }

  #decide(principal: Principal, topic: string, access: AclAccess): Decision {
    const wellFormed = access === 'subscribe' ? isTopicFilter(topic) : isTopicName(topic);

    if (!wellFormed) {
      return deny('invalid-topic');
    }

    const levels = levelsOf(topic);
    const denied = this.#matchRule(principal, levels, access, 'deny');

    if (denied !== undefined) {
      return ruleDecision(false, denied);
    }

    const role = rolePermission(this.index, principal, topic, access);

    if (role !== undefined) {
      return allow(role);
    }

    const allowed = this.#matchRule(principal, levels, access, 'allow');

    return allowed === undefined ? deny('no-permission') : ruleDecision(true, allowed);
  }

  #matchRule(
    principal: Principal,
    levels: readonly string[],
    access: AclAccess,
    effect: 'allow' | 'deny',
  ): string | undefined {
    const rules = this.index.preparedRulesFor(principal);

    return rules.first(effect, access, levels, ruleHit(effect, access));
  }
}

function isRefusal(value: Principal | Decision): value is Decision {
  return 'allowed' in value;
}
