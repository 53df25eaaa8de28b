import type { AclAccess, AclRule, Principal } from '../directory/types.js';
import { MAX_TOPIC_LENGTH } from '@beckon/shared';
import { expandPattern, type RuleHit } from './acl-rules.js';
import { isTopicFilter, levelsOf } from './topic-match.js';

// The extra ACL rules, prepared once for the checks they answer: `%u` filled in, each pattern
// split into levels, and the rules kept by effect and access and found by the topic's first
// level. A cold check then looks only at the few rules that can match instead of expanding and
// splitting every rule of the principal again; rules shared by many principals are prepared
// once for all of them.

const SINGLE = '+';
const MULTI = '#';
const NO_RULES: readonly PreparedRule[] = [];
const USERNAME = '%u';
const NO_USERNAME = { usernameLevels: [], lengthWithoutUsernames: 0 } as const;

/** A rule as it applies to one principal, or to everybody with the username put in later. */
export interface PreparedRule {
  readonly id: string;
  /** Position in the directory's rule list: the first hit in this order decides. */
  readonly order: number;
  readonly levels: readonly string[];
  /** Levels that are `%u`, replaced by the checked username at match time. */
  readonly usernameLevels: readonly number[];
  /** The pattern's length without its `%u`s, to refuse an expansion past the topic limit. */
  readonly lengthWithoutUsernames: number;
}

/** The rules of one effect and access, grouped by the literal first level of their pattern. */
class RuleTable {
  readonly #byFirstLevel = new Map<string, PreparedRule[]>();
  readonly #wildcardFirst: PreparedRule[] = [];
  readonly #all: PreparedRule[] = [];

  add(rule: PreparedRule): void {
    this.#all.push(rule);
    const first = rule.levels[0] ?? '';

    // A username first level is whichever username is checked: it may be any literal.
    if (first === SINGLE || first === MULTI || rule.usernameLevels[0] === 0) {
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
  first(topicLevels: readonly string[], hits: RuleHit, username: string): PreparedRule | undefined {
    const head = topicLevels[0] ?? '';

    if (head === SINGLE || head === MULTI) {
      return firstHit(this.#all, topicLevels, hits, username);
    }

    const literal = firstHit(this.#byFirstLevel.get(head) ?? NO_RULES, topicLevels, hits, username);
    const wildcard = firstHit(this.#wildcardFirst, topicLevels, hits, username);

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
  username: string,
): PreparedRule | undefined {
  for (const rule of rules) {
    const levels = rule.usernameLevels.length === 0 ? rule.levels : withUsername(rule, username);

    if (levels !== undefined && hits(levels, topicLevels)) {
      return rule;
    }
  }

  return undefined;
}

// The pattern with the username in, or undefined when that makes it longer than any topic (as
// the per-principal expansion refuses it). A principal id never holds `/`, `+`, `#` or `%`, so
// the filter stays well formed otherwise.
function withUsername(rule: PreparedRule, username: string): readonly string[] | undefined {
  const length = rule.lengthWithoutUsernames + rule.usernameLevels.length * username.length;

  if (length > MAX_TOPIC_LENGTH) {
    return undefined;
  }

  const levels = [...rule.levels];

  for (const index of rule.usernameLevels) {
    levels[index] = username;
  }

  return levels;
}

// Tables are made on first use: once every principal has been checked, the index holds a
// rule set per principal with rules of its own, and most hold one or two rules, so six empty
// tables (a map and two arrays each) per set were most of what the major collections marked.
type Tables = Record<AclAccess, RuleTable | undefined>;

function tables(): Tables {
  return { read: undefined, write: undefined, subscribe: undefined };
}

/** Rules prepared for matching, kept by effect and access. */
export class RuleSet {
  readonly #allow = tables();
  readonly #deny = tables();
  #size = 0;

  /** True when no rule was added: a principal's rule list leaves such a set out. */
  get isEmpty(): boolean {
    return this.#size === 0;
  }

  /**
   * Adds a rule as it applies to `principal` (`%u` filled in). A pattern that is no usable
   * filter then is left out, as it could never hit.
   */
  add(rule: AclRule, order: number, principal: Principal): void {
    const pattern = expandPattern(rule, principal);

    if (pattern !== undefined) {
      this.#insert(rule, { id: rule.id, order, levels: levelsOf(pattern), ...NO_USERNAME });
    }
  }

  /**
   * Adds a rule for everybody it applies to, whose `%u`s (if any) are whole levels at
   * `usernames`: each check puts its username in. A pattern that is no usable filter even so
   * is left out.
   */
  addForAnyone(rule: AclRule, order: number, usernames: readonly number[]): void {
    const levels = levelsOf(rule.pattern);
    const lengthWithoutUsernames = rule.pattern.length - usernames.length * USERNAME.length;
    // Checked with the shortest username there could be; withUsername checks the real length.
    const shortest = levels.map((level, index) => (usernames.includes(index) ? 'u' : level));

    if (!isTopicFilter(shortest.join('/'))) {
      return;
    }

    this.#insert(rule, {
      id: rule.id,
      order,
      levels,
      usernameLevels: usernames,
      lengthWithoutUsernames,
    });
  }

  #insert(rule: AclRule, prepared: PreparedRule): void {
    const byAccess = rule.effect === 'allow' ? this.#allow : this.#deny;

    for (const access of new Set(rule.access)) {
      const table = (byAccess[access] ??= new RuleTable());
      table.add(prepared);
      this.#size += 1;
    }
  }

  first(
    effect: AclRule['effect'],
    access: AclAccess,
    topicLevels: readonly string[],
    hits: RuleHit,
    username: string,
  ): PreparedRule | undefined {
    const byAccess = effect === 'allow' ? this.#allow : this.#deny;

    return byAccess[access]?.first(topicLevels, hits, username);
  }
}

/**
 * Every rule that can apply to one principal, as a few rule sets: those shared by everybody
 * or by one of its groups (prepared once, whoever asks first; `%u` as a whole level filled in
 * at match time), and its own (its rules, and shared rules with `%u` inside a level, filled in
 * for it). The earliest hit among them decides.
 */
export class PrincipalRules {
  constructor(
    readonly username: string,
    readonly sets: readonly RuleSet[],
  ) {}

  /** The id of the earliest rule of this effect and access that hits the topic. */
  first(
    effect: AclRule['effect'],
    access: AclAccess,
    topicLevels: readonly string[],
    hits: RuleHit,
  ): string | undefined {
    let earliest: PreparedRule | undefined;

    for (const set of this.sets) {
      const hit = set.first(effect, access, topicLevels, hits, this.username);

      if (hit !== undefined && (earliest === undefined || hit.order < earliest.order)) {
        earliest = hit;
      }
    }

    return earliest?.id;
  }
}
