import { describe, expect, it } from 'vitest';
import { isRealDate } from '../src/calendar-date.js';

// The check as it was written before it was made cheaper: the oracle the new one must match.
function splitOracle(value: string): boolean {
  if (Number.isNaN(Date.parse(value))) {
    return false;
  }

  const [datePart] = value.split('T');
  const [year, month, day] = (datePart ?? '').split('-').map(Number);

  if (year === undefined || month === undefined || day === undefined) {
    return false;
  }

  return day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Characters that make Date.parse, the splits and Number() disagree in interesting ways. */
const ALPHABET = '0123456789--TT::.+Z ez';
const GENERATED = 50_000;
const MAX_GENERATED_LENGTH = 28;

// A fixed-seed generator (mulberry32), so a failure names a string that fails again.
function random(seed: number): () => number {
  let state = seed;

  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;

    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function calendarGrid(): string[] {
  const values: string[] = [];

  for (const year of ['2024', '2026', '1900', '2000', '0000', '+002026', '99999']) {
    for (let month = 0; month <= 13; month += 1) {
      for (let day = 0; day <= 32; day += 1) {
        const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
        values.push(date, `${date}T10:00:00Z`, `${date}T23:59:59.999+14:00`);
      }
    }
  }

  return values;
}

describe('isRealDate', () => {
  it('accepts days that exist and refuses rolled-over ones', () => {
    expect(isRealDate('2026-02-28T10:00:00Z')).toBe(true);
    expect(isRealDate('2024-02-29T10:00:00Z')).toBe(true);
    expect(isRealDate('2026-02-29T10:00:00Z')).toBe(false);
    expect(isRealDate('2026-04-31T10:00:00+02:00')).toBe(false);
    expect(isRealDate('not a date')).toBe(false);
  });

  it('answers as the split-based check did for every date of a calendar grid', () => {
    for (const value of calendarGrid()) {
      expect([value, isRealDate(value)]).toEqual([value, splitOracle(value)]);
    }
  });

  it('answers as the split-based check did for generated strings', () => {
    const next = random(7);

    for (let round = 0; round < GENERATED; round += 1) {
      const length = Math.floor(next() * MAX_GENERATED_LENGTH);
      let value = '';

      for (let index = 0; index < length; index += 1) {
        value += ALPHABET[Math.floor(next() * ALPHABET.length)] ?? '';
      }

      if (isRealDate(value) !== splitOracle(value)) {
        expect([value, isRealDate(value)]).toEqual([value, splitOracle(value)]);
      }
    }
  });

  it('answers as the split-based check did for mangled real timestamps', () => {
    const next = random(11);
    const pick = (): string => ALPHABET[Math.floor(next() * ALPHABET.length)] ?? '';
    const grid = calendarGrid();
    let parseable = 0;

    for (let round = 0; round < GENERATED; round += 1) {
      const base = grid[Math.floor(next() * grid.length)] ?? '';
      const at = Math.floor(next() * (base.length + 1));
      const edits = [pick(), '', `${pick()}${pick()}`];
      const value = `${base.slice(0, at)}${edits[round % 3] ?? ''}${base.slice(at + 1)}`;
      parseable += Number.isNaN(Date.parse(value)) ? 0 : 1;

      if (isRealDate(value) !== splitOracle(value)) {
        expect([value, isRealDate(value)]).toEqual([value, splitOracle(value)]);
      }
    }

    // Enough mangled strings must still reach the calendar check, or this proves little.
    expect(parseable).toBeGreaterThan(GENERATED / 10);
  });
});
