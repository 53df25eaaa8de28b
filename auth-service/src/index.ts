/**
 * @beckon/auth-service: the store, admin API, public API and CLI half of Beckon's auth-service,
 * and the DirectorySource the broker-facing decision engine reads.
 */
export {
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
export { BROKER_TOKEN_AUDIENCE, issueBrokerToken } from './trust/broker-token.js';
export { generateSecret } from './secrets/generate-secret.js';
export { hashSecret, GENERATED_SECRET_SCRYPT } from './secrets/scrypt-hash.js';
export { verifyHash, hashFormat, type HashFormat } from './secrets/verify-hash.js';
