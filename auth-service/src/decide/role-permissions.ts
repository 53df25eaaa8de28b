import { allAgentsFilter, parseTopic, type AgentChannel } from '@beckon/shared';
import type { AclAccess, Principal } from '../directory/types.js';
import type { DecisionReason } from './decision.js';
import type { DirectoryIndex } from './directory-index.js';

// The built-in permissions of docs/architecture.md "Who may do what", derived from roles so that
// nobody writes topic rules for the normal case. Each answers the reason that allows, or
// undefined when the role gives nothing (rules may still allow; the default is deny).

const AGENT_OUTPUT: ReadonlySet<AgentChannel> = new Set(['results', 'progress', 'status']);

// The only wildcard filters a role allows: one output channel of every agent. Each delivery is
// then read-checked per concrete topic, so an app still sees only agents it is granted.
const ALL_AGENT_OUTPUT_FILTERS: ReadonlySet<string> = new Set(
  [...AGENT_OUTPUT].map((channel) => allAgentsFilter(channel)),
);

export function rolePermission(
  index: DirectoryIndex,
  principal: Principal,
  topic: string,
  access: AclAccess,
): DecisionReason | undefined {
  switch (principal.kind) {
    case 'agent':
      return agentPermission(index, principal.id, topic, access);
    case 'app':
      return appPermission(index, principal.id, topic, access);
  }
}

function agentPermission(
  index: DirectoryIndex,
  agentId: string,
  topic: string,
  access: AclAccess,
): DecisionReason | undefined {
  // A wildcard filter never parses, so an agent's subscriptions are exact topics only.
  const parsed = parseTopic(topic);

  if (parsed === undefined) {
    return undefined;
  }

  if (access === 'write') {
    if (parsed.scope === 'agent') {
      return parsed.agentId === agentId && AGENT_OUTPUT.has(parsed.channel)
        ? 'agent-own-output'
        : undefined;
    }

    const app = index.principal(parsed.appId);
    const granted = app?.kind === 'app' && app.enabled && index.appsOfAgent(agentId).has(app.id);

    return granted ? 'agent-replies-to-app' : undefined;
  }

  const ownCommands =
    parsed.scope === 'agent' && parsed.agentId === agentId && parsed.channel === 'commands';

  return ownCommands ? 'agent-own-commands' : undefined;
}

function appPermission(
  index: DirectoryIndex,
  appId: string,
  topic: string,
  access: AclAccess,
): DecisionReason | undefined {
  if (access === 'subscribe' && ALL_AGENT_OUTPUT_FILTERS.has(topic)) {
    return 'app-all-agents-filter';
  }

  const parsed = parseTopic(topic);

  if (parsed === undefined) {
    return undefined;
  }

  if (parsed.scope === 'app') {
    return access !== 'write' && parsed.appId === appId ? 'app-own-replies' : undefined;
  }

  if (!index.agentsOfApp(appId).has(parsed.agentId)) {
    return undefined;
  }

  if (access === 'write') {
    return parsed.channel === 'commands' ? 'app-commands-agent' : undefined;
  }

  return AGENT_OUTPUT.has(parsed.channel) ? 'app-reads-agent' : undefined;
}
