import { startEmbeddedBroker, type EmbeddedBroker } from '@beckon/local';
import { pino, type Logger } from 'pino';
import type { RunningAuth } from './auth.js';

/** The embedded broker asking the auth-service over the plug's HTTP requests. */
export function startAuthedBroker(auth: RunningAuth, logger?: Logger): Promise<EmbeddedBroker> {
  return startEmbeddedBroker({
    checks: auth.plug,
    logger: logger ?? pino({ level: 'silent' }),
    port: 0,
    // Revocation tests wait for this: keep it short, as the shipped broker configs do.
    readCacheMs: 1_000,
  });
}
