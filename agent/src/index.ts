/** @beckon/agent: the daemon that runs allow-listed actions when a verified command arrives. */
export {
  BUILT_IN_ACTIONS,
  loadConfig,
  validateConfig,
  type ConfigResult,
} from './config/load-config.js';
export { ActionConfig, AgentConfig, ArgvElement, BrokerConfig } from './config/schema.js';
export { CONFIG_SCHEMA_ID, renderConfigJsonSchema } from './config/json-schema.js';
export { createActionRunner, type ActionRunnerOptions } from './actions/action-runner.js';
export { argsFor } from './actions/args-for.js';
export {
  buildArgv,
  END_OF_OPTIONS,
  invalidArgsError,
  type ArgvResult,
} from './actions/build-argv.js';
export { buildEnv, DEFAULT_ACTION_PATH } from './actions/build-env.js';
export {
  checkConfigJson,
  checkConfigReport,
  type ActionReport,
  type ConfigReport,
} from './actions/check-config-report.js';
export { BUILT_IN_DESCRIPTORS, describeActions } from './actions/describe-actions.js';
export { PROGRESS_INTERVAL_MS } from './actions/progress-relay.js';
export {
  resolveAccounts,
  type AccountSources,
  type AccountsResult,
  type RunAs,
} from './actions/resolve-accounts.js';
export { isShutdownReason, ShutdownReason } from './actions/stop-reasons.js';
export type { ActionRunner, RunOutcome, RunRequest } from './actions/types.js';
