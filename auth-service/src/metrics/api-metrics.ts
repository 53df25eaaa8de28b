import type { MetricsRegistry } from './registry.js';

/** The listeners whose answers the Router counts; the broker listener has its own metrics. */
export type ApiListener = 'admin' | 'public' | 'health';

/**
 * Counts the admin and public listeners' answers by status code, so an operator can alert on
 * 5xx (a failing store, a bug) and 429 (rate limits biting) from /metrics rather than by
 * reading logs. Status codes are a small fixed set (API_ERROR_STATUS plus the 2xx the routes
 * send), so the series stay bounded.
 */
export function apiResponseCounter(
  registry: MetricsRegistry,
): (listener: ApiListener) => (status: number) => void {
  const responses = registry.counter(
    'beckon_auth_api_responses_total',
    'Answers of the admin and public listeners (and the broker listener health routes), by status.',
    ['listener', 'status'],
  );

  return (listener) => (status) => responses.labels(listener, String(status)).inc();
}
