// Knobs of the reliability suite, read once. Defaults are the figures where they are
// affordable in `pnpm test`; docs/reliability.md lists every variable.

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];

  if (raw === undefined || raw === '') {
    return fallback;
  }

  const value = Number(raw);

  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }

  return value;
}

/** Commands sent across the broker restarts (the issue: 1,000). */
export const RESTART_COMMANDS = positiveInteger('BECKON_RELIABILITY_COMMANDS', 1_000);
/** Broker restarts during those commands (the issue: three). */
export const RESTART_COUNT = positiveInteger('BECKON_RELIABILITY_RESTARTS', 3);
/** How long the auth-service stays down (the issue: 30 s). */
export const AUTH_OUTAGE_MS = positiveInteger('BECKON_RELIABILITY_OUTAGE_MS', 30_000);
/** Failed logins in the flood against the slow auth-service. */
export const FLOOD_LOGINS = positiveInteger('BECKON_RELIABILITY_FLOOD_LOGINS', 400);
