import { describe, expect, it } from 'vitest';
import { decodePercent } from '../src/broker/form-body.js';
import { isUnreserved, isUnreservedText } from '../src/http/unreserved.js';

// The byte test serves the encoder, the string test the parser's fast path for bearer tokens:
// they must name the same set, or a token could skip a decoding it needs.

describe('unreserved characters', () => {
  it('are the same set for one character and for a whole string, over every code unit', () => {
    const mismatches: number[] = [];

    for (let code = 0; code <= 0xffff; code += 1) {
      if (isUnreservedText(String.fromCharCode(code)) !== isUnreserved(code)) {
        mismatches.push(code);
      }
    }

    expect(mismatches).toEqual([]);
  });

  it('hold for a string only when every character holds', () => {
    expect(isUnreservedText('')).toBe(true);
    expect(isUnreservedText('eyJhbGciOiJFZERTQSJ9.e30.c2ln-_~')).toBe(true);
    expect(isUnreservedText('abc%2Edef')).toBe(false);
    expect(isUnreservedText('abc\ndef')).toBe(false);
    expect(isUnreservedText('abc def')).toBe(false);
  });
});

describe('decodePercent', () => {
  it('gives an unreserved value back as it is, and decodes any other', () => {
    const token = 'eyJhbGciOiJFZERTQSJ9.e30.c2ln';

    expect(decodePercent(token, 'bearer token')).toBe(token);
    expect(decodePercent('eyJ%2Ee30', 'bearer token')).toBe('eyJ.e30');
  });
});
