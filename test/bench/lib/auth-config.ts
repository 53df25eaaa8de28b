import { writeFile } from 'node:fs/promises';
import type { AuthServiceConfigInput, StoreConfig } from '@beckon/auth-service';

/** Issuer of every benchmark auth-service's tokens. */
export const BENCH_ISSUER = 'beckon-bench';
/** Broker tokens outlive the longest benchmark run, so none is renewed mid-measurement. */
const BROKER_TOKEN_TTL_SECONDS = 3_600;
/** Enrolling hundreds of agents from one address would trip the production rate limit. */
const BENCH_PUBLIC_BURST = 10_000;

/** The config a benchmark's auth-service runs with: free loopback ports, quiet logs. */
export function benchAuthConfig(store: StoreConfig): AuthServiceConfigInput {
  return {
    store,
    listeners: {
      broker: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      public: { host: '127.0.0.1', port: 0 },
    },
    issuer: BENCH_ISSUER,
    logLevel: 'warn',
    credentials: { brokerTokenTtlSeconds: BROKER_TOKEN_TTL_SECONDS },
    publicLimits: { burst: BENCH_PUBLIC_BURST, perSecond: BENCH_PUBLIC_BURST },
  };
}

export async function writeAuthConfig(path: string, config: AuthServiceConfigInput): Promise<void> {
  await writeFile(path, JSON.stringify(config, null, 2));
}
