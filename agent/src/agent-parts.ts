import type { AgentParts } from './service/run-agent.js';

/**
 * The action runner and catalogue that `beckon-agent run` composes into the daemon. The runner
 * half of the agent (argv building, execa, queue, descriptors) binds them here; until then
 * this build has none and `run` says so instead of starting an agent that cannot run actions.
 */
export const AGENT_PARTS: AgentParts | undefined = undefined;
