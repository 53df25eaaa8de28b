import { agentTopics, appTopic } from '@beckon/shared';
import { plugAclRequest, type PlugAcc } from './plug-request.js';
import type { DirectorySecrets, GrantedAgents } from './seed-directory.js';

// Which ACL checks the load generator sends: the checks a running fleet makes, as plug bytes.
// Warm sets repeat a few thousand checks (every answer comes from the decision cache); cold
// sets never repeat one, so every answer is worked out by the decision engine.

export interface AclCheck {
  readonly username: string;
  readonly topic: string;
  readonly acc: PlugAcc;
}

const READ: PlugAcc = 1;
const WRITE: PlugAcc = 2;
const SUBSCRIBE: PlugAcc = 4;

/** What agents ask: publish their results, progress and status, subscribe to their commands. */
function agentChecks(agentId: string): AclCheck[] {
  const topics = agentTopics(agentId);

  return [
    { username: agentId, topic: topics.results, acc: WRITE },
    { username: agentId, topic: topics.status, acc: WRITE },
    { username: agentId, topic: topics.progress, acc: WRITE },
    { username: agentId, topic: topics.commands, acc: SUBSCRIBE },
  ];
}

/** What apps ask: command a granted agent, receive its results, status and progress. */
function appChecks(appId: string, agentId: string): AclCheck[] {
  const topics = agentTopics(agentId);

  return [
    { username: appId, topic: topics.commands, acc: WRITE },
    { username: appId, topic: topics.results, acc: READ },
    { username: appId, topic: topics.status, acc: READ },
    { username: appId, topic: topics.progress, acc: READ },
  ];
}

/** A deterministic shuffle (the same order in every run). */
function shuffled<T>(items: T[]): T[] {
  let state = 0x9e3779b9;

  for (let index = items.length - 1; index > 0; index -= 1) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const other = state % (index + 1);
    const item = items[index] as T;
    items[index] = items[other] as T;
    items[other] = item;
  }

  return items;
}

// Round-robin over agents and apps, so any prefix of the list is a fair mix of both.
function* fleetChecks(
  seed: DirectorySecrets,
  granted: GrantedAgents,
  withAgents: boolean,
): Generator<AclCheck> {
  const apps = seed.appIds.map((appId) => ({ appId, agents: granted.get(appId) ?? [] }));
  const firstApp = new Map<string, string>();

  for (const app of apps) {
    for (const agentId of app.agents) {
      if (!firstApp.has(agentId)) {
        firstApp.set(agentId, app.appId);
      }
    }
  }

  const rounds = Math.max(seed.agentIds.length, ...apps.map((app) => app.agents.length));

  for (let round = 0; round < rounds; round += 1) {
    const agentId = seed.agentIds[round];

    if (withAgents && agentId !== undefined) {
      yield* agentChecks(agentId);
    }

    for (const app of apps) {
      const target = app.agents[round];

      if (target !== undefined) {
        yield* appChecks(app.appId, target);
      }
    }

    if (withAgents && agentId !== undefined) {
      // The app inbox an agent replies to, for one app granted it.
      const appId = firstApp.get(agentId);

      if (appId !== undefined) {
        yield { username: agentId, topic: appTopic(appId, 'replies'), acc: WRITE };
      }
    }
  }
}

/** Up to `count` distinct checks, shuffled; agents' checks only for the http backend. */
export function distinctChecks(
  seed: DirectorySecrets,
  granted: GrantedAgents,
  count: number,
  withAgents: boolean,
): AclCheck[] {
  const checks: AclCheck[] = [];

  for (const check of fleetChecks(seed, granted, withAgents)) {
    if (checks.length >= count) {
      break;
    }
    checks.push(check);
  }

  return shuffled(checks);
}

/** The app subscriptions an app makes once per session: the wildcard result and status feeds. */
export function appSubscriptions(appIds: readonly string[]): AclCheck[] {
  return appIds.flatMap((appId) => [
    { username: appId, topic: 'beckon/v1/agents/+/results', acc: SUBSCRIBE },
    { username: appId, topic: 'beckon/v1/agents/+/status', acc: SUBSCRIBE },
  ]);
}

/** The checks as plug requests; for jwt, each app's username is replaced by its broker token. */
export function toRequests(
  checks: readonly AclCheck[],
  backend: 'http' | 'jwt',
  host: string,
  tokens: ReadonlyMap<string, string> = new Map(),
): Buffer[] {
  return checks.map((check) =>
    plugAclRequest({
      backend,
      host,
      username: backend === 'jwt' ? (tokens.get(check.username) ?? check.username) : check.username,
      topic: check.topic,
      acc: check.acc,
    }),
  );
}
