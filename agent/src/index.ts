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
export { Agent, AgentStartError, startAgent, type AgentOptions } from './agent.js';
export { withBuiltIns } from './built-ins.js';
export {
  AgentCredentials,
  CredentialsError,
  readCredentials,
  writeCredentials,
} from './enroll/credentials-file.js';
export { enroll, EnrollError, type EnrollOptions } from './enroll/enroll.js';
export { createLogger, type Logger } from './logger.js';
export {
  DEFAULT_RECONNECT_TIMINGS,
  ReconnectSchedule,
  type ReconnectTimings,
} from './mqtt/reconnect-schedule.js';
export type { AbortReason } from './pipeline/command-pipeline.js';
export { AGENT_STATES, type AgentState } from './service/agent-state.js';
export { runAgentProcess, type AgentParts, type RunProcessOptions } from './service/run-agent.js';
export { ReplayStore, type StoredCommand } from './state/replay-store.js';
export { agentVersion } from './version.js';
