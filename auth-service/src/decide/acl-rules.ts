import type { AclAccess, AclRule, Principal } from '../directory/types.js';
import { isTopicFilter, levelsCover, levelsIntersect, levelsMatch } from './topic-match.js';

// Extra ACL rules for other uses of the broker. Only ever called with a principal whose id is a
// valid PrincipalId, so `%u` can never bring a `/`, `+`, `#` or `%` into a pattern.

const USERNAME_PLACEHOLDER = '%u';

/** Whether a rule (its pattern's levels) hits a checked topic or filter (its levels). */
export type RuleHit = (ruleLevels: readonly string[], topicLevels: readonly string[]) => boolean;

/**
 * Where `%u` stands as a whole level of the pattern (`a/%u/b`): such a rule can be prepared once
 * for everybody and the username put in at match time. Undefined when `%u` is part of a level
 * (`a/x-%u`), which only a per-principal expansion handles; empty when it names nobody.
 */
export function usernameLevels(pattern: string): readonly number[] | undefined {
  if (!pattern.includes(USERNAME_PLACEHOLDER)) {
    return [];
  }

  const indexes: number[] = [];

  for (const [index, level] of pattern.split('/').entries()) {
    if (level === USERNAME_PLACEHOLDER) {
      indexes.push(index);
    } else if (level.includes(USERNAME_PLACEHOLDER)) {
      return undefined;
    }
  }

  return indexes;
}

/** The rule's pattern for this principal, or undefined when it is not a usable filter. */
export function expandPattern(rule: AclRule, principal: Principal): string | undefined {
  const pattern = rule.pattern.replaceAll(USERNAME_PLACEHOLDER, principal.id);

  return isTopicFilter(pattern) ? pattern : undefined;
}

// A deny rule hits a concrete topic it matches; for a subscription it hits every filter that
// could deliver one topic it matches, so a broad subscription cannot slip past a narrow deny.
const DENY_HITS: Readonly<Record<AclAccess, RuleHit>> = {
  read: levelsMatch,
  write: levelsMatch,
  subscribe: levelsIntersect,
};

// An allow rule allows a subscription only when it covers every topic the filter can match.
const ALLOW_HITS: Readonly<Record<AclAccess, RuleHit>> = {
  read: levelsMatch,
  write: levelsMatch,
  subscribe: levelsCover,
};

/** How a rule of this effect hits a topic checked for this access. */
export function ruleHit(effect: AclRule['effect'], access: AclAccess): RuleHit {
  return effect === 'deny' ? DENY_HITS[access] : ALLOW_HITS[access];
}
