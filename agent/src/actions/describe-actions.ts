import type { ActionDescriptor } from '@beckon/shared';
import type { AgentConfig } from '../config/schema.js';
import { actionTimeoutMs } from './timeouts.js';

/** The actions every agent offers without configuration; they spawn nothing. */
export const BUILT_IN_DESCRIPTORS: readonly ActionDescriptor[] = Object.freeze([
  {
    name: 'ping',
    description: 'Answers at once without running anything; for health and latency checks.',
    args: {},
    builtIn: true,
  },
  {
    name: 'describe',
    description: "Returns this agent's action catalogue.",
    args: {},
    builtIn: true,
  },
]);

/**
 * The action catalogue an agent publishes in its status and answers `describe` with: the
 * built-ins, then the configured actions by name. It says what may be asked (names, argument
 * types, timeouts), never how an action runs (program, environment, user).
 */
export function describeActions(config: Pick<AgentConfig, 'actions'>): ActionDescriptor[] {
  const configured = Object.entries(config.actions)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, action]): ActionDescriptor => ({
      name,
      description: action.description,
      args: action.args,
      timeoutMs: actionTimeoutMs(action),
    }));

  return [...BUILT_IN_DESCRIPTORS, ...configured];
}
