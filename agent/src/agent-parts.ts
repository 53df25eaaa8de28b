import { createActionRunner } from './actions/action-runner.js';
import { describeActions } from './actions/describe-actions.js';
import { resolveAccounts } from './actions/resolve-accounts.js';
import type { AgentParts } from './service/run-agent.js';

/** The action runner and catalogue that `beckon-agent run` composes into the daemon. */
export const AGENT_PARTS: AgentParts = {
  async createRunner(config, logger) {
    // Run-as users are resolved once, at start-up: an action naming a user that does not
    // exist stops the agent here instead of failing each time it is asked for.
    const accounts = await resolveAccounts(config.actions);

    if (!accounts.ok) {
      throw new Error(accounts.errors.join('; '));
    }

    return createActionRunner({ limits: config.limits, logger, accounts: accounts.accounts });
  },
  describeActions: (config) => describeActions(config),
};
