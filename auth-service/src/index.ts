/**
 * @beckon/auth-service: answers the broker's auth checks and holds principals and grants.
 * The broker-facing half (decision engine, check handler, metrics, a plug-compatible client)
 * and the store, admin API, public API and CLI half, with the DirectorySource between them.
 */
export { DecisionEngine } from './decide/decision-engine.js';
export { SERVICE_NODE_FLAGS } from './runtime-flags.js';
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
  type BrokerChecks as BrokerCheckHandler,
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
export {
  PLUG_DEFAULT_RETRY_COUNT,
  PLUG_TIMEOUT_MS,
  PlugClient,
  type PlugAcc,
  type PlugAnswer,
  type PlugClientOptions,
  type PlugParams,
} from './plug-client/plug-client.js';
export { GoAuthClient, type GoAuthClientOptions } from './plug-client/go-auth-client.js';
export { percentEncode } from './plug-client/percent-encode.js';
export {
  BROKER_BACKENDS,
  BROKER_ENDPOINTS,
  BrokerMetrics,
  type BrokerBackend,
  type BrokerEndpoint,
} from './metrics/broker-metrics.js';
export {
  defaultBrokerChecks,
  startAuthService,
  type AuthService,
  type BrokerChecks,
  type BrokerChecksContext,
  type BrokerChecksFactory,
  type StartAuthServiceOptions,
} from './server.js';
export {
  loadConfig,
  ConfigError,
  ENV_PREFIX,
  type LoadConfigOptions,
} from './config/load-config.js';
export { AuthServiceConfig, type AuthServiceConfigInput } from './config/schema.js';
export type {
  AclAccess,
  AclRule,
  AclSubject,
  AppGrant,
  DirectorySnapshot,
  DirectorySource,
  Principal,
  PrincipalKind,
  TrustKey,
} from './directory/types.js';
export { StoreDirectory } from './directory/store-directory.js';
export { openStore, type StoreConfig } from './store/open-store.js';
export type { Store, StoreReader, StoreWriter } from './store/store.js';
export { API_ERROR_STATUS, type ApiErrorCode } from './http/api-error.js';
export type { ExplainFunction, ExplainResult } from './admin-api/trust-audit-routes.js';
export { issueBrokerToken } from './trust/broker-token.js';
export { generateSecret } from './secrets/generate-secret.js';
export {
  ADMIN_TOKEN_PREFIX,
  createAdminToken,
  type CreatedAdminToken,
} from './admin-api/create-admin-token.js';
export { hashSecret, GENERATED_SECRET_SCRYPT } from './secrets/scrypt-hash.js';
export { hashGeneratedSecret } from './secrets/generated-secret-hash.js';
export { verifyHash, hashFormat, type HashFormat } from './secrets/verify-hash.js';
