import { parseArgs } from 'node:util';
import { z } from 'zod';
import { UsageError } from './usage.js';

// One flag set for every command; each command reads the flags it needs and `assertOnly`
// refuses the rest, so a misplaced flag is an error instead of being ignored.
const OPTIONS = {
  config: { type: 'string' },
  url: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  groups: { type: 'string' },
  superuser: { type: 'boolean' },
  jwk: { type: 'string' },
  app: { type: 'string' },
  agents: { type: 'string' },
  actions: { type: 'string' },
  subject: { type: 'string' },
  pattern: { type: 'string' },
  access: { type: 'string' },
  effect: { type: 'string' },
  'expires-in': { type: 'string' },
  uses: { type: 'string' },
  agent: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  passwords: { type: 'string' },
  acl: { type: 'string' },
  as: { type: 'string' },
  name: { type: 'string' },
} as const;

export type FlagName = keyof typeof OPTIONS;
export type Flags = Partial<Record<FlagName, string | boolean>>;

const GLOBAL_FLAGS: readonly FlagName[] = ['json', 'help', 'config', 'url', 'token-file'];

export interface ParsedCommandLine {
  readonly positionals: string[];
  readonly flags: Flags;
}

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });

    return { positionals, flags: values };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : 'invalid arguments');
  }
}

/** Refuses flags the command does not take. */
export function assertOnly(flags: Flags, allowed: readonly FlagName[]): void {
  for (const name of Object.keys(flags) as FlagName[]) {
    if (!allowed.includes(name) && !GLOBAL_FLAGS.includes(name)) {
      throw new UsageError(`this command does not take --${name}`);
    }
  }
}

export function stringFlag(flags: Flags, name: FlagName): string | undefined {
  const value = flags[name];

  return typeof value === 'string' ? value : undefined;
}

export function requiredFlag(flags: Flags, name: FlagName): string {
  const value = stringFlag(flags, name);

  if (value === undefined || value === '') {
    throw new UsageError(`--${name} is required`);
  }

  return value;
}

/** `a,b,c` -> ['a', 'b', 'c']; undefined when the flag is absent. */
export function listFlag(flags: Flags, name: FlagName): string[] | undefined {
  const value = stringFlag(flags, name);

  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
}

export function integerFlag(flags: Flags, name: FlagName): number | undefined {
  const value = stringFlag(flags, name);

  if (value === undefined) {
    return undefined;
  }

  const parsed = z.coerce.number().int().min(0).safeParse(value);

  if (!parsed.success) {
    throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  }

  return parsed.data;
}

const DURATION_UNITS_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3_600,
  d: 86_400,
};

/** `90`, `90s`, `15m`, `12h`, `7d` -> seconds. */
export function durationFlag(flags: Flags, name: FlagName): number | undefined {
  const value = stringFlag(flags, name);

  if (value === undefined) {
    return undefined;
  }

  const match = /^(\d{1,7})([smhd]?)$/.exec(value);

  if (match === null) {
    throw new UsageError(`--${name} must be a duration like 3600, 15m, 12h or 7d; got "${value}"`);
  }

  return Number(match[1]) * (DURATION_UNITS_SECONDS[match[2] || 's'] ?? 1);
}

/** Exactly `count` positional arguments after the command words. */
export function positionalArgs(args: readonly string[], names: readonly string[]): string[] {
  if (args.length !== names.length) {
    throw new UsageError(
      names.length === 0
        ? 'this command takes no arguments'
        : `expected ${names.map((name) => `<${name}>`).join(' ')}`,
    );
  }

  return [...args];
}
