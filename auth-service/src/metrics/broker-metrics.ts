import type { CounterChild, HistogramChild, MetricsRegistry } from './registry.js';

export const BROKER_ENDPOINTS = ['auth', 'superuser', 'acl'] as const;
export type BrokerEndpoint = (typeof BROKER_ENDPOINTS)[number];

export const BROKER_BACKENDS = ['plug-http', 'plug-jwt', 'go-auth-http', 'go-auth-jwt'] as const;
export type BrokerBackend = (typeof BROKER_BACKENDS)[number];

/** `malformed` is a 4xx for bad input (a deny to the broker); `error` is our own 5xx. */
export const CHECK_OUTCOMES = ['allow', 'deny', 'malformed', 'error'] as const;
export type CheckOutcome = (typeof CHECK_OUTCOMES)[number];

export const CACHES = ['decision', 'credential', 'token'] as const;
export type CacheName = (typeof CACHES)[number];

export const THROTTLE_SCOPES = ['username', 'source'] as const;
export type ThrottleScope = (typeof THROTTLE_SCOPES)[number];

// Seconds. The floor of a bare node:http answer is ~25 µs at p50 and ~1.5 ms at p99
// (PERFORMANCE.md); the buckets resolve both ends and the slow-hash logins (tens of ms).
const LATENCY_BUCKETS_SECONDS = [
  0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

type Table<K extends string, V> = Readonly<Record<K, V>>;

function tableOf<K extends string, V>(keys: readonly K[], make: (key: K) => V): Table<K, V> {
  return Object.fromEntries(keys.map((key) => [key, make(key)])) as Record<K, V>;
}

/**
 * The broker-facing metrics, with every series bound up front: checks by endpoint, backend and
 * outcome, check latency, cache hits and misses, store errors and throttled logins.
 */
export class BrokerMetrics {
  readonly checks: Table<BrokerBackend, Table<BrokerEndpoint, Table<CheckOutcome, CounterChild>>>;
  readonly latency: Table<BrokerEndpoint, HistogramChild>;
  readonly cache: Table<CacheName, { hit: CounterChild; miss: CounterChild }>;
  readonly storeErrors: CounterChild;
  readonly throttled: Table<ThrottleScope, CounterChild>;
  /** Requests refused before any endpoint applied: unknown path or method. */
  readonly unrouted: CounterChild;

  constructor(registry: MetricsRegistry) {
    const checks = registry.counter(
      'beckon_auth_broker_checks_total',
      'Broker checks answered, by endpoint, plugin backend and outcome.',
      ['endpoint', 'backend', 'outcome'],
    );
    const latency = registry.histogram(
      'beckon_auth_broker_check_duration_seconds',
      'Time from a broker check request to its answer, in seconds.',
      LATENCY_BUCKETS_SECONDS,
      ['endpoint'],
    );
    const cache = registry.counter(
      'beckon_auth_broker_cache_requests_total',
      'Lookups in the broker-check caches, by cache and result.',
      ['cache', 'result'],
    );
    const storeErrors = registry.counter(
      'beckon_auth_store_errors_total',
      'Store operations that failed (for broker checks: secret verification that threw).',
    );
    const throttled = registry.counter(
      'beckon_auth_throttled_logins_total',
      'Logins refused without checking the secret because of too many failures.',
      ['scope'],
    );
    const unrouted = registry.counter(
      'beckon_auth_broker_unrouted_requests_total',
      'Requests to the broker-check listener with an unknown path or method.',
    );

    this.checks = tableOf(BROKER_BACKENDS, (backend) =>
      tableOf(BROKER_ENDPOINTS, (endpoint) =>
        tableOf(CHECK_OUTCOMES, (outcome) => checks.labels(endpoint, backend, outcome)),
      ),
    );
    this.latency = tableOf(BROKER_ENDPOINTS, (endpoint) => latency.labels(endpoint));
    this.cache = tableOf(CACHES, (name) => ({
      hit: cache.labels(name, 'hit'),
      miss: cache.labels(name, 'miss'),
    }));
    this.storeErrors = storeErrors.labels();
    this.throttled = tableOf(THROTTLE_SCOPES, (scope) => throttled.labels(scope));
    this.unrouted = unrouted.labels();
  }
}
