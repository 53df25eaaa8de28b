import { invalidArgument } from '../errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const MAX_DURATION_MS = 24 * 3_600_000;

/** "30s", "500ms", "2m", "1h"; a bare number is seconds. Names `flag` when refused. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d{1,9})(ms|s|m|h)?$/.exec(text.trim());

  if (match?.[1] === undefined) {
    throw invalidArgument(
      flag,
      `must be a duration like 30s, 500ms, 2m or 1h, got ${JSON.stringify(text)}`,
    );
  }

  const unit = (match[2] ?? 's') as keyof typeof UNIT_MS;
  const ms = Number(match[1]) * UNIT_MS[unit];

  if (ms < 1 || ms > MAX_DURATION_MS) {
    throw invalidArgument(flag, `must be between 1ms and 24h, got ${JSON.stringify(text)}`);
  }

  return ms;
}
