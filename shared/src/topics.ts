import { isPrincipalId } from './ids.js';
import { MAX_TOPIC_LENGTH } from './limits.js';

/**
 * Every Beckon topic starts here. The version is in the tree so that a v2 contract can run
 * beside v1 on one broker while agents are upgraded.
 */
export const TOPIC_ROOT = 'beckon/v1';

/** The topics that belong to one agent, and who writes each. */
export const AGENT_CHANNELS = [
  // apps publish commands and cancels; the agent subscribes
  'commands',
  // the agent publishes one result per command; granted apps subscribe
  'results',
  // the agent publishes streamed output while an action runs; granted apps subscribe
  'progress',
  // the agent publishes its retained presence; granted apps subscribe
  'status',
] as const;

export type AgentChannel = (typeof AGENT_CHANNELS)[number];

/** The topics that belong to one app: optional reply inboxes named in a command's `replyTo`. */
export const APP_CHANNELS = ['replies'] as const;

export type AppChannel = (typeof APP_CHANNELS)[number];

export type ParsedTopic =
  | { readonly scope: 'agent'; readonly agentId: string; readonly channel: AgentChannel }
  | { readonly scope: 'app'; readonly appId: string; readonly channel: AppChannel };

export class TopicError extends Error {
  override readonly name = 'TopicError';
}

function assertId(id: string, what: string): void {
  if (!isPrincipalId(id)) {
    throw new TopicError(`${what} ${JSON.stringify(id)} cannot be used in a topic`);
  }
}

export function agentTopic(agentId: string, channel: AgentChannel): string {
  assertId(agentId, 'agent id');

  return `${TOPIC_ROOT}/agents/${agentId}/${channel}`;
}

/** The four topics of one agent. Throws a TopicError for an id that is not a valid agent id. */
export function agentTopics(agentId: string): Readonly<Record<AgentChannel, string>> {
  return {
    commands: agentTopic(agentId, 'commands'),
    results: agentTopic(agentId, 'results'),
    progress: agentTopic(agentId, 'progress'),
    status: agentTopic(agentId, 'status'),
  };
}

export function appTopic(appId: string, channel: AppChannel): string {
  assertId(appId, 'app id');

  return `${TOPIC_ROOT}/apps/${appId}/${channel}`;
}

/** A subscription filter for one channel of every agent, e.g. all status topics. */
export function allAgentsFilter(channel: AgentChannel): string {
  return `${TOPIC_ROOT}/agents/+/${channel}`;
}

function isAgentChannel(value: string): value is AgentChannel {
  return (AGENT_CHANNELS as readonly string[]).includes(value);
}

function isAppChannel(value: string): value is AppChannel {
  return (APP_CHANNELS as readonly string[]).includes(value);
}

/**
 * Reads a concrete topic back into its parts; undefined for anything that is not exactly a
 * Beckon v1 topic (wrong root, extra or missing levels, wildcards, invalid ids).
 */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (topic.length > MAX_TOPIC_LENGTH || !topic.startsWith(`${TOPIC_ROOT}/`)) {
    return undefined;
  }

  const levels = topic.slice(TOPIC_ROOT.length + 1).split('/');

  if (levels.length !== 3) {
    return undefined;
  }

  const [scope, id, channel] = levels as [string, string, string];

  if (!isPrincipalId(id)) {
    return undefined;
  }

  if (scope === 'agents' && isAgentChannel(channel)) {
    return { scope: 'agent', agentId: id, channel };
  }

  if (scope === 'apps' && isAppChannel(channel)) {
    return { scope: 'app', appId: id, channel };
  }

  return undefined;
}
