import { describe, expect, it } from 'vitest';
import {
  argsFor,
  buildArgv,
  buildEnv,
  DEFAULT_ACTION_PATH,
  invalidArgsError,
} from '../src/index.js';
import { action, matching } from './fixtures/actions.js';

const deploy = action({
  argv: [
    '/usr/local/bin/deploy',
    '--app',
    { arg: 'app' },
    { arg: 'dryRun', flag: '--dry-run' },
    '--retries',
    { arg: 'retries' },
    '--',
    { arg: 'ref' },
    { arg: 'note' },
  ],
  args: {
    app: { type: 'string', enum: ['web', 'worker'] },
    dryRun: { type: 'boolean', required: false },
    retries: { type: 'integer', min: -5, max: 5 },
    ref: { type: 'string', maxLength: 200 },
    note: { type: 'string', required: false },
  },
});

function argvOf(args: Record<string, string | number | boolean>) {
  const built = buildArgv(deploy, args);

  return built.ok ? built.argv : built.issues;
}

describe('buildArgv', () => {
  it('keeps literals, fills each value as one element and leaves absent optionals out', () => {
    expect(argvOf({ app: 'web', retries: 3, ref: 'v1.2 with spaces' })).toEqual([
      '/usr/local/bin/deploy',
      '--app',
      'web',
      '--retries',
      '3',
      '--',
      'v1.2 with spaces',
    ]);
  });

  it('adds a flag for true and nothing for false', () => {
    expect(argvOf({ app: 'web', dryRun: true, retries: 0, ref: 'main' })).toContain('--dry-run');
    expect(argvOf({ app: 'web', dryRun: false, retries: 0, ref: 'main' })).not.toContain(
      '--dry-run',
    );
  });

  it('writes integers in plain decimal', () => {
    const big = action({
      argv: ['/bin/echo', { arg: 'n' }],
      args: { n: { type: 'integer' } },
    });

    expect(buildArgv(big, { n: Number.MAX_SAFE_INTEGER })).toMatchObject({
      argv: ['/bin/echo', '9007199254740991'],
    });
  });

  it('accepts a value starting with a dash only after a literal "--"', () => {
    expect(argvOf({ app: 'web', retries: 1, ref: '-rf', note: '--output=/etc/passwd' })).toEqual([
      '/usr/local/bin/deploy',
      '--app',
      'web',
      '--retries',
      '1',
      '--',
      '-rf',
      '--output=/etc/passwd',
    ]);
  });

  it('refuses a negative integer before "--", where it would read as an option', () => {
    expect(argvOf({ app: 'web', retries: -1, ref: 'main' })).toEqual([
      { code: 'invalid_value', path: 'args.retries', message: matching(/"-"/) },
    ]);
  });

  it('refuses a string starting with a dash before "--"', () => {
    const echo = action({
      argv: ['/bin/echo', { arg: 'text' }, '--', { arg: 'tail' }],
      args: { text: { type: 'string' }, tail: { type: 'string' } },
    });

    for (const hostile of ['-rf', '--output=/etc/passwd', '-', '--']) {
      const built = buildArgv(echo, { text: hostile, tail: 'x' });

      expect(built.ok, hostile).toBe(false);
      expect(built.ok || built.issues[0]?.path).toBe('args.text');
    }
  });

  it('does not count a "--" that is the program itself', () => {
    const odd = action({ argv: ['--', { arg: 'x' }], args: { x: { type: 'string' } } });

    expect(buildArgv(odd, { x: '-x' }).ok).toBe(false);
  });

  it.each([
    ['a newline', 'main\nrm -rf /'],
    ['a carriage return', 'main\r'],
    ['NUL', 'main\u0000evil'],
    ['an escape sequence', '\u001b[2Jcleared'],
    ['DEL', 'a\u007f'],
    ['a C1 control', 'a\u0085b'],
    ['a Unicode line separator', 'a\u2028b'],
  ])('refuses %s in a string value', (_name, value) => {
    const built = buildArgv(deploy, { app: 'web', retries: 0, ref: value });

    expect(built.ok || built.issues).toEqual([
      { code: 'invalid_value', path: 'args.ref', message: matching(/control/) },
    ]);
  });

  it('refuses half a surrogate pair, which the program would receive as U+FFFD', () => {
    const built = buildArgv(deploy, { app: 'web', retries: 0, ref: 'a\uD83D' });

    expect(built.ok || built.issues[0]?.message).toMatch(/well-formed Unicode/);
    expect(argvOf({ app: 'web', retries: 0, ref: '🚀' })).toContain('🚀');
  });

  it('allows a tab', () => {
    expect(argvOf({ app: 'web', retries: 0, ref: 'a\tb' })).toContain('a\tb');
  });

  it('re-validates the declared types', () => {
    const built = buildArgv(deploy, { app: 'db', retries: 9, ref: 'main', extra: 'x' });

    expect(built.ok || built.issues.map((issue) => [issue.code, issue.path])).toEqual([
      ['invalid_value', 'args.app'],
      ['too_big', 'args.retries'],
      ['unknown_field', 'args'],
    ]);
  });
});

describe('argsFor', () => {
  it('returns the arguments when they pass', () => {
    expect(argsFor(deploy, { app: 'worker', retries: 2, ref: 'v2' })).toEqual({
      ok: true,
      value: { app: 'worker', retries: 2, ref: 'v2' },
    });
  });

  it('names a missing required argument and a wrong type', () => {
    const result = argsFor(deploy, { app: 'web', retries: '2' });

    expect(result.ok || result.issues).toEqual([
      { code: 'invalid_type', path: 'args.retries', message: 'expected number' },
      { code: 'missing_field', path: 'args.ref', message: 'is required' },
    ]);
  });

  it('refuses input that is not an object', () => {
    const result = argsFor(deploy, ['web']);

    expect(result.ok || result.issues[0]).toMatchObject({ code: 'invalid_type', path: 'args' });
  });

  it('applies the agent rules too, so the pipeline rejects before queueing', () => {
    const result = argsFor(deploy, { app: 'web', retries: 0, ref: 'ok', note: 'two\nlines' });

    expect(result.ok || invalidArgsError(result.issues)).toEqual({
      code: 'invalid_args',
      message: 'args.note: must not contain control characters (only tab is allowed)',
    });
  });
});

describe('buildEnv', () => {
  it('is exactly what the action declares, with a system PATH unless it sets one', () => {
    expect(buildEnv(action({ argv: ['/bin/true'], env: { LANG: 'C.UTF-8' } }))).toEqual({
      PATH: DEFAULT_ACTION_PATH,
      LANG: 'C.UTF-8',
    });
    expect(buildEnv(action({ argv: ['/bin/true'], env: { PATH: '/opt/app/bin' } }))).toEqual({
      PATH: '/opt/app/bin',
    });
  });
});
