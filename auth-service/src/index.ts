/**
 * @beckon/auth-service: answers the broker's auth checks and holds principals and grants.
 * This entry exports the broker-facing half: the decision engine, the broker-check handler,
 * the metrics registry and a client that speaks exactly like mosquitto-auth-plug.
 */
export { DecisionEngine } from './decide/decision-engine.js';
export { DirectoryIndex } from './decide/directory-index.js';
export {
  DECISION_REASONS,
  describeReason,
  type CheckAccess,
  type Decision,
  type DecisionReason,
} from './decide/decision.js';
export {
  filterCovers,
  filtersIntersect,
  isTopicFilter,
  isTopicName,
  topicMatches,
} from './decide/topic-match.js';
export {
  createBrokerChecks,
  type BrokerChecks,
  type BrokerChecksDeps,
} from './broker/broker-checks.js';
export {
  BROKER_TOKEN_AUDIENCE,
  BrokerChecksOptions,
  type BrokerChecksOptionsInput,
} from './broker/options.js';
export { createBrokerServer, listenBrokerChecks, type BrokerListener } from './broker/listen.js';
export {
  Counter,
  Histogram,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from './metrics/registry.js';
export type * from './directory/types.js';
export {
  PLUG_DEFAULT_RETRY_COUNT,
  PLUG_TIMEOUT_MS,
  PlugClient,
  type PlugAcc,
  type PlugAnswer,
  type PlugClientOptions,
  type PlugParams,
} from './plug-client/plug-client.js';
export { percentEncode } from './plug-client/percent-encode.js';
export {
  BROKER_BACKENDS,
  BROKER_ENDPOINTS,
  BrokerMetrics,
  type BrokerBackend,
  type BrokerEndpoint,
} from './metrics/broker-metrics.js';
