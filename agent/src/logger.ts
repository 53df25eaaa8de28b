import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger } from 'pino';

// Defence in depth: the code never logs these keys, and if a refactor ever does, pino blanks them.
const REDACTED_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'credential',
  '*.credential',
  'auth',
  '*.auth',
];

/** The agent's JSON logger: one event per line, ISO timestamps, secrets redacted by key. */
export function createLogger(level: Level, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'beckon-agent' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };

  return destination === undefined ? pino(options) : pino(options, destination);
}
