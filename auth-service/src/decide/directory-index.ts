import type { AclRule, DirectorySnapshot, Principal } from '../directory/types.js';
import { usernameLevels } from './acl-rules.js';
import { PrincipalRules, RuleSet } from './principal-rules.js';

/** Rules shared by a scope (everybody, a group): prepared once, plus those each principal needs. */
interface SharedRules {
  readonly set: RuleSet;
  /** Rules with `%u` inside a level, expanded for each principal. */
  readonly perPrincipal: readonly AclRule[];
}

const NO_IDS: ReadonlySet<string> = new Set();

/**
 * One snapshot, rearranged for the questions the broker asks: who is this username, which agents
 * may this app command, which apps may this agent answer, which rules can apply to whom. Built
 * once per snapshot; afterwards only each principal's rule list is filled in when first needed.
 */
export class DirectoryIndex {
  readonly revision: number;
  readonly snapshot: DirectorySnapshot;
  readonly rules: readonly AclRule[];
  readonly #agentsOfApp = new Map<string, Set<string>>();
  readonly #appsOfAgent = new Map<string, Set<string>>();
  readonly #rulesOfPrincipal = new Map<string, AclRule[]>();
  readonly #rulesOfGroup = new Map<string, AclRule[]>();
  readonly #rulesOfAll: AclRule[] = [];
  readonly #ruleOrder = new Map<AclRule, number>();
  /** Filled on first use, one entry per principal seen: every rule that can apply to it. */
  readonly #preparedRules = new Map<string, PrincipalRules>();
  /** Rules for everybody and per group, prepared on first use and shared. */
  #sharedForAll: SharedRules | undefined;
  readonly #sharedForGroup = new Map<string, SharedRules>();

  constructor(snapshot: DirectorySnapshot) {
    this.revision = snapshot.revision;
    this.snapshot = snapshot;
    this.rules = snapshot.rules;

    const agentsByGroup = groupAgents(snapshot.principals);

    this.#indexRules(snapshot.rules);

    for (const grant of snapshot.grants) {
      const app = snapshot.principals.get(grant.appId);

      if (app?.kind !== 'app') {
        continue;
      }

      for (const agentId of grant.agents) {
        if (snapshot.principals.get(agentId)?.kind === 'agent') {
          this.#link(grant.appId, agentId);
        }
      }

      for (const group of grant.groups) {
        for (const agentId of agentsByGroup.get(group) ?? NO_IDS) {
          this.#link(grant.appId, agentId);
        }
      }
    }
  }

  /** The principal with this id. Callers check the id is a valid PrincipalId first. */
  principal(id: string): Principal | undefined {
    return this.snapshot.principals.get(id);
  }

  /** Agents an app may command (by id or through a group), whatever the grant's actions. */
  agentsOfApp(appId: string): ReadonlySet<string> {
    return this.#agentsOfApp.get(appId) ?? NO_IDS;
  }

  /** Apps granted this agent: the agent may publish replies to their inboxes. */
  appsOfAgent(agentId: string): ReadonlySet<string> {
    return this.#appsOfAgent.get(agentId) ?? NO_IDS;
  }

  /**
   * The rules whose subject covers this principal (by id, one of its groups, or everybody), in
   * the directory's order. A cache miss otherwise scanned every rule twice: with 10,000 rules
   * that was most of a cold ACL check's time.
   */
  rulesFor(principal: Principal): readonly AclRule[] {
    return this.#orderedRulesFor(principal).map(([rule]) => rule);
  }

  /** This principal's rules, prepared for matching; built on first use and kept. */
  preparedRulesFor(principal: Principal): PrincipalRules {
    let prepared = this.#preparedRules.get(principal.id);

    if (prepared === undefined) {
      prepared = this.#prepare(principal);
      this.#preparedRules.set(principal.id, prepared);
    }

    return prepared;
  }

  // Only the principal's own rules, and shared rules with `%u` inside a level, are prepared for
  // it; every other rule is prepared once for everybody it applies to (a whole-level `%u` gets
  // the username at match time). With 10,000 agents under 50 broker-wide `%u` rules, expanding
  // those per agent cost each agent's first check about 160 µs and kept 50 copies per agent.
  // Empty sets are left out: nothing to prepare or keep for them, nothing to ask on each check.
  #prepare(principal: Principal): PrincipalRules {
    const own = new RuleSet();
    const shared: RuleSet[] = [];
    const addOwn = (rule: AclRule): void => {
      own.add(rule, this.#ruleOrder.get(rule) ?? 0, principal);
    };

    for (const rule of this.#rulesOfPrincipal.get(principal.id) ?? []) {
      addOwn(rule);
    }

    this.#sharedForAll ??= this.#shared(this.#rulesOfAll);
    shared.push(this.#sharedForAll.set);
    this.#sharedForAll.perPrincipal.forEach(addOwn);

    for (const group of new Set(principal.groups)) {
      let forGroup = this.#sharedForGroup.get(group);

      if (forGroup === undefined) {
        forGroup = this.#shared(this.#rulesOfGroup.get(group) ?? []);
        this.#sharedForGroup.set(group, forGroup);
      }

      shared.push(forGroup.set);
      forGroup.perPrincipal.forEach(addOwn);
    }

    const sets = [own, ...shared].filter((set) => !set.isEmpty);

    return new PrincipalRules(principal.id, sets);
  }

  // The rules that read the same whoever they apply to, `%u` as a whole level included; the
  // rest (`%u` inside a level) are left for each principal.
  #shared(rules: readonly AclRule[]): SharedRules {
    const set = new RuleSet();
    const perPrincipal: AclRule[] = [];

    for (const rule of rules) {
      const usernames = usernameLevels(rule.pattern);

      if (usernames === undefined) {
        perPrincipal.push(rule);
      } else {
        set.addForAnyone(rule, this.#ruleOrder.get(rule) ?? 0, usernames);
      }
    }

    return { set, perPrincipal };
  }

  #orderedRulesFor(principal: Principal): (readonly [AclRule, number])[] {
    const candidates = new Set([
      ...(this.#rulesOfPrincipal.get(principal.id) ?? []),
      ...principal.groups.flatMap((group) => this.#rulesOfGroup.get(group) ?? []),
      ...this.#rulesOfAll,
    ]);

    return [...candidates]
      .map((rule) => [rule, this.#ruleOrder.get(rule) ?? 0] as const)
      .sort((a, b) => a[1] - b[1]);
  }

  #indexRules(rules: readonly AclRule[]): void {
    for (const [order, rule] of rules.entries()) {
      this.#ruleOrder.set(rule, order);

      switch (rule.subject.kind) {
        case 'principal':
          addRule(this.#rulesOfPrincipal, rule.subject.id, rule);
          break;
        case 'group':
          addRule(this.#rulesOfGroup, rule.subject.name, rule);
          break;
        case 'all':
          this.#rulesOfAll.push(rule);
          break;
      }
    }
  }

  #link(appId: string, agentId: string): void {
    addTo(this.#agentsOfApp, appId, agentId);
    addTo(this.#appsOfAgent, agentId, appId);
  }
}

function groupAgents(principals: ReadonlyMap<string, Principal>): Map<string, Set<string>> {
  const byGroup = new Map<string, Set<string>>();

  for (const principal of principals.values()) {
    if (principal.kind !== 'agent') {
      continue;
    }

    for (const group of principal.groups) {
      addTo(byGroup, group, principal.id);
    }
  }

  return byGroup;
}

function addRule(map: Map<string, AclRule[]>, key: string, rule: AclRule): void {
  const existing = map.get(key);

  if (existing === undefined) {
    map.set(key, [rule]);
  } else {
    existing.push(rule);
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const existing = map.get(key);

  if (existing === undefined) {
    map.set(key, new Set([value]));
  } else {
    existing.add(value);
  }
}
