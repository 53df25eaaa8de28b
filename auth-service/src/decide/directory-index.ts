import type { AclRule, DirectorySnapshot, Principal } from '../directory/types.js';

const NO_IDS: ReadonlySet<string> = new Set();

/**
 * One snapshot, rearranged for the questions the broker asks: who is this username, which agents
 * may this app command, which apps may this agent answer. Built once per snapshot, then only read.
 */
export class DirectoryIndex {
  readonly revision: number;
  readonly snapshot: DirectorySnapshot;
  readonly rules: readonly AclRule[];
  readonly #agentsOfApp = new Map<string, Set<string>>();
  readonly #appsOfAgent = new Map<string, Set<string>>();

  constructor(snapshot: DirectorySnapshot) {
    this.revision = snapshot.revision;
    this.snapshot = snapshot;
    this.rules = snapshot.rules;

    const agentsByGroup = groupAgents(snapshot.principals);

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

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const existing = map.get(key);

  if (existing === undefined) {
    map.set(key, new Set([value]));
  } else {
    existing.add(value);
  }
}
