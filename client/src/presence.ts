import type { ActionDescriptor, HostFacts, Status } from '@beckon/shared';

/** What the client knows about one agent from its retained status messages. */
export interface AgentPresence {
  readonly agentId: string;
  readonly state: 'online' | 'offline';
  /** When the agent was last known to be up: now for an online status, else its timestamp. */
  readonly lastSeen: Date;
  /** When the agent published this status (for a will: when the agent connected). */
  readonly since: Date;
  readonly startedAt: Date;
  readonly version: string;
  readonly host: HostFacts | undefined;
  readonly catalogue: readonly ActionDescriptor[];
  /** Why it went offline, when it said. */
  readonly reason: string | undefined;
}

export function presenceFromStatus(status: Status, receivedAt: Date): AgentPresence {
  return {
    agentId: status.agentId,
    state: status.state,
    lastSeen: status.state === 'online' ? receivedAt : new Date(status.at),
    since: new Date(status.at),
    startedAt: new Date(status.startedAt),
    version: status.version,
    host: status.host,
    catalogue: status.catalogue,
    reason: status.reason,
  };
}
