import type { AclAccess, AclRule, Principal } from '../directory/types.js';
import { expandPattern, type RuleHit } from './acl-rules.js';
import { levelsOf } from './topic-match.js';

// The extra ACL rules, prepared once for the checks they answer: `%u` filled in, each pattern
// split into levels, and the rules kept by effect and access and found by the topic's first
// level. A cold check then looks only at the few rules that can match instead of expanding and
// splitting every rule of the principal again; rules shared by many principals are prepared
// once for all of them.

const SINGLE = '+';
const MULTI = '#';
const NO_RULES: readonly PreparedRule[] = [];

/** A rule as it applies to one principal. */
export interface PreparedRule {
  readonly id: string;
  /** Position in the directory's rule list: the first hit in this order decides. */
  readonly order: number;
  readonly levels: readonly string[];
}

/** The rules of one effect and access, grouped by the literal first level of their pattern. */
class RuleTable {
  readonly #byFirstLevel = new Map<string, PreparedRule[]>();
  readonly #wildcardFirst: PreparedRule[] = [];
  readonly #all: PreparedRule[] = [];

  add(rule: PreparedRule): void {
    this.#all.push(rule);
    const first = rule.levels[0] ?? '';

    if (first === SINGLE || first === MULTI) {
      this.#wildcardFirst.push(rule);

      return;
    }

    const bucket = this.#byFirstLevel.get(first);

    if (bucket === undefined) {
      this.#byFirstLevel.set(first, [rule]);
    } else {
      bucket.push(rule);
    }
  }

  /**
   * The earliest rule that hits the topic. A rule whose first level is a different literal can
   * never match, cover or intersect a topic or filter starting with a literal, so only a
   * wildcard at the topic's start needs every rule.
   */
  first(topicLevels: readonly string[], hits: RuleHit): PreparedRule | undefined {
    const head = topicLevels[0] ?? '';

    if (head === SINGLE || head === MULTI) {
      return firstHit(this.#all, topicLevels, hits);
    }

    const literal = firstHit(this.#byFirstLevel.get(head) ?? NO_RULES, topicLevels, hits);
    const wildcard = firstHit(this.#wildcardFirst, topicLevels, hits);

    if (literal === undefined || wildcard === undefined) {
      return literal ?? wildcard;
    }

    return literal.order < wildcard.order ? literal : wildcard;
  }
}

function firstHit(
  rules: readonly PreparedRule[],
  topicLevels: readonly string[],
  hits: RuleHit,
): PreparedRule | undefined {
  for (const rule of rules) {
    if (hits(rule.levels, topicLevels)) {
      return rule;
    }
  }

  return undefined;
}

type Tables = Readonly<Record<AclAccess, RuleTable>>;

function tables(): Tables {
  return { read: new RuleTable(), write: new RuleTable(), subscribe: new RuleTable() };
}

/** Rules prepared for matching, kept by effect and access. */
export class RuleSet {
  readonly #allow = tables();
  readonly #deny = tables();

  /**
   * Adds a rule as it applies to `principal` (`%u` filled in). A pattern that is no usable
   * filter then is left out, as it could never hit.
   */
  add(rule: AclRule, order: number, principal: Principal): void {
    const pattern = expandPattern(rule, principal);

    if (pattern === undefined) {
      return;
    }

    const prepared: PreparedRule = { id: rule.id, order, levels: levelsOf(pattern) };
    const byAccess = rule.effect === 'allow' ? this.#allow : this.#deny;

    for (const access of new Set(rule.access)) {
      byAccess[access].add(prepared);
    }
  }

  first(
    effect: AclRule['effect'],
    access: AclAccess,
    topicLevels: readonly string[],
    hits: RuleHit,
  ): PreparedRule | undefined {
    const byAccess = effect === 'allow' ? this.#allow : this.#deny;

    return byAccess[access].first(topicLevels, hits);
  }
}

/**
 * Every rule that can apply to one principal, as a few rule sets: those shared by everybody
 * or by one of its groups (prepared once, whoever asks first), and its own (its rules, and
 * shared rules naming `%u`, filled in for it). The earliest hit among them decides.
 */
export class PrincipalRules {
  constructor(readonly sets: readonly RuleSet[]) {}

  /** The id of the earliest rule of this effect and access that hits the topic. */
  first(
    effect: AclRule['effect'],
    access: AclAccess,
    topicLevels: readonly string[],
    hits: RuleHit,
  ): string | undefined {
    let earliest: PreparedRule | undefined;

    for (const set of this.sets) {
      const hit = set.first(effect, access, topicLevels, hits);

      if (hit !== undefined && (earliest === undefined || hit.order < earliest.order)) {
        earliest = hit;
      }
    }

    return earliest?.id;
  }
}
