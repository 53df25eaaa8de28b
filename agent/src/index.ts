/** @beckon/agent: the daemon that runs allow-listed actions when a verified command arrives. */
export {
  BUILT_IN_ACTIONS,
  loadConfig,
  validateConfig,
  type ConfigResult,
} from './config/load-config.js';
export { ActionConfig, AgentConfig, ArgvElement, BrokerConfig } from './config/schema.js';
