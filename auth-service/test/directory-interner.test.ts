import { describe, expect, it } from 'vitest';
import { Interner } from '../src/directory/interner.js';

describe('Interner', () => {
  // Shared strings cannot be told apart from copies in JavaScript (strings compare by value);
  // the heap snapshots in the commit that added this class show them. Lists are objects.
  it('shares one frozen list between equal lists', () => {
    const shared = new Interner();
    const list = shared.list(['site-7', 'web']);

    expect(shared.list(['site-7', 'web'])).toBe(list);
    expect(shared.list(['web', 'site-7'])).not.toBe(list);
    expect(Object.isFrozen(list)).toBe(true);
  });

  it('keeps lists apart whose items differ only in where they split', () => {
    const shared = new Interner();

    expect(shared.list(['a,b'])).not.toBe(shared.list(['a', 'b']));
    expect(shared.list(['a\nb'])).toEqual(['a\nb']);
    expect(shared.list(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('gives every empty list the same frozen array', () => {
    const empty = new Interner().list([]);

    expect(new Interner().list([])).toBe(empty);
    expect(Object.isFrozen(empty)).toBe(true);
  });

  it('does not keep the caller’s array: changing it later changes nothing shared', () => {
    const shared = new Interner();
    const input = ['web'];
    const list = shared.list(input);
    input.push('db');

    expect(list).toEqual(['web']);
    expect(shared.list(['web'])).toBe(list);
  });
});
