import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../lib/bench-options.js';

const NO_ENV = {};

describe('parseBenchOptions', () => {
  it('runs everything in full by default', () => {
    expect(parseBenchOptions([], NO_ENV)).toEqual({ quick: false, only: [] });
  });

  it('reads --quick', () => {
    expect(parseBenchOptions(['--quick'], NO_ENV)).toEqual({ quick: true, only: [] });
  });

  it('splits --only a,b into names', () => {
    expect(parseBenchOptions(['--only', 'auth-check,fan-out'], NO_ENV)).toEqual({
      quick: false,
      only: ['auth-check', 'fan-out'],
    });
  });

  it('adds up repeated --only flags, in order', () => {
    const argv = ['--only', 'footprint', '--quick', '--only', 'round-trip,fan-out'];

    expect(parseBenchOptions(argv, NO_ENV)).toEqual({
      quick: true,
      only: ['footprint', 'round-trip', 'fan-out'],
    });
  });

  it('skips the -- that `pnpm bench -- ...` passes through and reads the flags after it', () => {
    expect(parseBenchOptions(['--', '--quick', '--only', 'fan-out'], NO_ENV)).toEqual({
      quick: true,
      only: ['fan-out'],
    });
  });

  it.each([
    ['1', true],
    ['true', true],
    ['0', false],
    ['false', false],
    ['', false],
  ])('reads BECKON_BENCH_QUICK=%j as quick: %s', (value, quick) => {
    expect(parseBenchOptions([], { BECKON_BENCH_QUICK: value }).quick).toBe(quick);
  });

  it('lets --quick win over BECKON_BENCH_QUICK=0', () => {
    expect(parseBenchOptions(['--quick'], { BECKON_BENCH_QUICK: '0' }).quick).toBe(true);
  });

  it('ignores other environment variables', () => {
    expect(parseBenchOptions([], { BECKON_BENCH_CPU_PROF: '/tmp/prof' })).toEqual({
      quick: false,
      only: [],
    });
  });
});

describe('parseBenchOptions refuses', () => {
  it('an unknown flag, naming it', () => {
    expect(() => parseBenchOptions(['--quik'], NO_ENV)).toThrow(
      'unknown flag "--quik"; expected --quick or --only <name>',
    );
  });

  it('a bare word, naming it, so a forgotten --only never runs the whole suite', () => {
    expect(() => parseBenchOptions(['fan-out'], NO_ENV)).toThrow('unknown flag "fan-out"');
  });

  it('--only at the end, without a value', () => {
    expect(() => parseBenchOptions(['--only'], NO_ENV)).toThrow(
      '--only needs a benchmark name, e.g. --only auth-check',
    );
  });

  it('--only followed by another flag instead of a value', () => {
    expect(() => parseBenchOptions(['--only', '--quick'], NO_ENV)).toThrow(
      '--only needs a benchmark name',
    );
  });

  it.each(['yes', 'TRUE', '2', ' 1'])('BECKON_BENCH_QUICK=%j, quoting the value', (value) => {
    expect(() => parseBenchOptions([], { BECKON_BENCH_QUICK: value })).toThrow(
      `BECKON_BENCH_QUICK must be 1, true, 0 or false; found ${JSON.stringify(value)}`,
    );
  });

  it('a bad BECKON_BENCH_QUICK even when --quick is given', () => {
    expect(() => parseBenchOptions(['--quick'], { BECKON_BENCH_QUICK: 'on' })).toThrow(
      'BECKON_BENCH_QUICK must be',
    );
  });
});
