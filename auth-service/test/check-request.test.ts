import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { basicCredentials, carriesBasicCredentials } from '../src/broker/check-request.js';

// The plug's http backend without a broker key sends the client's credentials twice: in the
// form and as Basic auth. The hot path compares them without building the header; it must
// agree with building it, for every username and password.

describe('carriesBasicCredentials', () => {
  it('agrees with comparing against the built header, for any credentials', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (username, password, other) => {
        const header = basicCredentials(username, password);

        expect(carriesBasicCredentials(header, username, password)).toBe(true);
        expect(carriesBasicCredentials(basicCredentials(other, password), username, password)).toBe(
          other === username,
        );
        expect(carriesBasicCredentials(basicCredentials(username, other), username, password)).toBe(
          other === password,
        );
      }),
    );
  });

  it('refuses a missing header, another scheme and a header one character off', () => {
    const header = basicCredentials('sensor-1', '');

    expect(carriesBasicCredentials(undefined, 'sensor-1', '')).toBe(false);
    expect(carriesBasicCredentials(header.replace('Basic', 'basic'), 'sensor-1', '')).toBe(false);
    expect(carriesBasicCredentials(`${header.slice(0, -1)}x`, 'sensor-1', '')).toBe(false);
    expect(carriesBasicCredentials(`${header}=`, 'sensor-1', '')).toBe(false);
    expect(carriesBasicCredentials(basicCredentials('sensör', 'pw'), 'sensör', 'pw')).toBe(true);
  });
});
