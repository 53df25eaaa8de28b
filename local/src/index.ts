/** @beckon/local: Beckon on one machine, for trying it out and for end-to-end tests. */
export { ACCESS, type AccessCode, type BrokerAuthChecks, type CheckAnswer } from './broker-auth.js';
export {
  DEFAULT_MAX_CONCURRENT_LOGINS,
  DEFAULT_READ_CACHE_MS,
  DENIED_TOPIC,
  startEmbeddedBroker,
  type EmbeddedBroker,
  type EmbeddedBrokerOptions,
} from './embedded-broker.js';
