import type { AclAccess, AclRule, Principal } from '../directory/types.js';
import { filterCovers, filtersIntersect, isTopicFilter, topicMatches } from './topic-match.js';

// Extra ACL rules for other uses of the broker. Only ever called with a principal whose id is a
// valid PrincipalId, so `%u` can never bring a `/`, `+`, `#` or `%` into a pattern.

const USERNAME_PLACEHOLDER = '%u';

export function ruleApplies(rule: AclRule, principal: Principal, access: AclAccess): boolean {
  if (!rule.access.includes(access)) {
    return false;
  }

  switch (rule.subject.kind) {
    case 'principal':
      return rule.subject.id === principal.id;
    case 'group':
      return principal.groups.includes(rule.subject.name);
    case 'all':
      return true;
  }
}

/** The rule's pattern for this principal, or undefined when it is not a usable filter. */
export function expandPattern(rule: AclRule, principal: Principal): string | undefined {
  const pattern = rule.pattern.replaceAll(USERNAME_PLACEHOLDER, principal.id);

  return isTopicFilter(pattern) ? pattern : undefined;
}

/**
 * A deny rule hits a concrete topic it matches; for a subscription it hits every filter that
 * could deliver one topic it matches, so a broad subscription cannot slip past a narrow deny.
 */
export function denyHits(pattern: string, topic: string, access: AclAccess): boolean {
  return access === 'subscribe' ? filtersIntersect(pattern, topic) : topicMatches(pattern, topic);
}

/** An allow rule allows a subscription only when it covers every topic the filter can match. */
export function allowHits(pattern: string, topic: string, access: AclAccess): boolean {
  return access === 'subscribe' ? filterCovers(pattern, topic) : topicMatches(pattern, topic);
}
