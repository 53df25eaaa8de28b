import { describe, expect, it } from 'vitest';
import { formatMs, median, ratio, summarise, table } from '../lib/stats.js';

/** 1, 2, ..., `count`: the percentile of a fraction f is then the nearest rank, ceil(f * n). */
function oneTo(count: number): Float64Array {
  return Float64Array.from({ length: count }, (_, index) => index + 1);
}

/** The same values in a fixed scrambled order (a step coprime with the length hits each once). */
function scrambled(values: Float64Array): Float64Array {
  const step = 7_919;

  return values.map((_, index) => values[((index + 1) * step) % values.length] ?? Number.NaN);
}

describe('summarise', () => {
  it('gives NaN percentiles and a zero rate for no latencies', () => {
    const summary = summarise(new Float64Array(), 3, 2);

    expect(summary).toEqual({
      count: 0,
      errors: 3,
      seconds: 2,
      perSecond: 0,
      p50: Number.NaN,
      p99: Number.NaN,
      p999: Number.NaN,
      max: Number.NaN,
    });
  });

  it('reports a single latency as every percentile', () => {
    const summary = summarise(Float64Array.of(4.5), 0, 0.5);

    expect(summary).toMatchObject({ count: 1, perSecond: 2, p50: 4.5, p99: 4.5, p999: 4.5 });
    expect(summary.max).toBe(4.5);
  });

  it('reads p50, p99 and p99.9 at the nearest rank of 1..1000', () => {
    const summary = summarise(oneTo(1_000), 0, 4);

    expect(summary).toMatchObject({ count: 1_000, perSecond: 250, p50: 500, p99: 990 });
    expect(summary.p999).toBe(999);
    expect(summary.max).toBe(1_000);
  });

  it('takes the top value for p99 and p99.9 when there are too few values to rank them', () => {
    const summary = summarise(oneTo(10), 0, 1);

    expect([summary.p50, summary.p99, summary.p999, summary.max]).toEqual([5, 10, 10, 10]);
  });

  it('sorts unsorted latencies numerically first', () => {
    const input = scrambled(oneTo(1_000));

    expect(input[0]).not.toBe(1);
    expect(summarise(input, 0, 4)).toEqual(summarise(oneTo(1_000), 0, 4));
    // Numerically, not as strings: 10 is above 9.
    expect(summarise(Float64Array.of(10, 9, 100), 0, 1).p50).toBe(10);
  });

  it('does not sort the array it was given', () => {
    const input = scrambled(oneTo(1_000));
    const copy = Float64Array.from(input);

    summarise(input, 0, 1);

    expect(input).toEqual(copy);
  });
});

describe('median', () => {
  it('takes the middle of an odd count', () => {
    expect(median([3, 1, 2])).toBe(2);
  });

  it('takes the upper middle of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(3);
  });

  it('gives NaN for no values', () => {
    expect(median([])).toBeNaN();
  });

  it('sorts numerically and leaves its input alone', () => {
    const values = [100, 9, 10];

    expect(median(values)).toBe(10);
    expect(values).toEqual([100, 9, 10]);
  });
});

describe('ratio', () => {
  it('rounds to two decimals', () => {
    expect(ratio(1, 3)).toBe(0.33);
    expect(ratio(2, 3)).toBe(0.67);
    expect(ratio(5, 4)).toBe(1.25);
    expect(ratio(3, 3)).toBe(1);
  });

  it('passes NaN through rather than inventing a figure', () => {
    expect(ratio(Number.NaN, 1)).toBeNaN();
    expect(ratio(1, Number.NaN)).toBeNaN();
  });
});

describe('formatMs', () => {
  it('shows three decimals below a millisecond and two from one up', () => {
    expect(formatMs(0.1234)).toBe('0.123');
    expect(formatMs(1.234)).toBe('1.23');
    expect(formatMs(250)).toBe('250.00');
  });

  it('shows a missing figure as a dash', () => {
    expect(formatMs(Number.NaN)).toBe('-');
  });
});

describe('table', () => {
  it('pads every column to its widest cell, two spaces apart, with a rule under the headers', () => {
    const text = table(
      ['case', 'p50'],
      [
        ['raw echo', '0.412'],
        ['ping', '12.50'],
      ],
    );

    expect(text.split('\n')).toEqual([
      'case      p50  ',
      '--------  -----',
      'raw echo  0.412',
      'ping      12.50',
    ]);
  });

  it('widens a column for a header longer than its cells', () => {
    expect(table(['in flight'], [['1']]).split('\n')).toEqual([
      'in flight',
      '---------',
      '1        ',
    ]);
  });
});
