import type { Logger } from 'pino';
import type { AuthServiceConfig } from './config/schema.js';
import type { StoreDirectory } from './directory/store-directory.js';
import { FailureThrottle } from './http/keyed-limits.js';
import type { Store } from './store/store.js';

/** What the admin and public handlers share. */
export interface ServiceContext {
  readonly config: AuthServiceConfig;
  readonly store: Store;
  readonly directory: StoreDirectory;
  readonly logger: Logger;
  /** Failed logins on the admin and public listeners, per source address and per principal. */
  readonly failedLogins: LoginThrottles;
}

export interface LoginThrottles {
  readonly byAddress: FailureThrottle;
  readonly byPrincipal: FailureThrottle;
}

export function createLoginThrottles(config: AuthServiceConfig): LoginThrottles {
  const limit = {
    maxFailures: config.loginThrottle.maxFailures,
    windowMs: config.loginThrottle.windowSeconds * 1_000,
  };

  return { byAddress: new FailureThrottle(limit), byPrincipal: new FailureThrottle(limit) };
}
