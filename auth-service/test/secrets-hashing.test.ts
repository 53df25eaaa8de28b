import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../src/secrets/generate-secret.js';
import { hashSecret, verifyScrypt } from '../src/secrets/scrypt-hash.js';
import { hashFormat, verifyHash } from '../src/secrets/verify-hash.js';
import { FailureThrottle, RateLimiter } from '../src/http/keyed-limits.js';

// The plug's PBKDF2 test vectors from shared/contract/mosquitto-auth-plug/README.md.
const PLUG_VECTORS = [
  ['secret', 'PBKDF2$sha256$901$5AmF8q3Dlcxq+JKI$5EecMTfQ6TKXe+dIu8IgqNQzNBD9hyWz', true],
  ['secret', 'PBKDF2$sha256$901$c2FsdHNhbHRzYWx0$WeL2cKP8QK7vMB/Y6UJ17XnoDB6G0uuh', true],
  [
    'secret',
    'PBKDF2$sha256$901$c2FsdHNhbHRzYWx0$WeL2cKP8QK7vMB/Y6UJ17XnoDB6G0uuhyTaJHfn9T5s=',
    true,
  ],
  ['secret', 'PBKDF2$sha1$1000$c2FsdHNhbHRzYWx0$796NkP+sK22XeMoLDsEsUiA/Rnk=', true],
  [
    'p@ss w0rd',
    'PBKDF2$sha512$901$abcdefghijklmnop$NMM3dBWiSd4Z9CUlC+NlL94z+FFDAYxlmfCgJ8b92r07hZRyfewoHJLxxTuGx8pDtqhNmpuTyVctSVsvMd5OHw==',
    true,
  ],
  ['secret', 'PBKDF2$sha256$901$c2FsdHNhbHRzYWx0$afPIiCQiFDBZbHCDIyGZzMC06L7uAScE', false],
  ['secret', 'PBKDF2$md5$901$c2FsdHNhbHRzYWx0$WeL2cKP8QK7vMB/Y6UJ17XnoDB6G0uuh', true],
] as const;

describe('generated secrets', () => {
  it('carry at least 128 bits of entropy and differ every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateSecret()));

    expect(secrets.size).toBe(50);

    for (const secret of secrets) {
      expect(Buffer.from(secret, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
  });

  it('once got salted scrypt hashes that name their parameters, which still verify', async () => {
    const secret = generateSecret();
    const [first, second] = await Promise.all([hashSecret(secret), hashSecret(secret)]);

    expect(first).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain(secret);
    expect(await verifyHash(first, secret)).toBe(true);
    expect(await verifyHash(first, `${secret}x`)).toBe(false);
  });

  it('still verify after the cost was raised, because each hash keeps its own parameters', async () => {
    const stronger = await hashSecret('pw', { logN: 12, r: 8, p: 1 });

    expect(stronger).toContain('ln=12');
    expect(await verifyScrypt(stronger, 'pw')).toBe(true);
  });
});

describe('imported hashes', () => {
  it.each(PLUG_VECTORS)('plug PBKDF2: %s against %s is %s', async (password, hash, match) => {
    expect(hashFormat(hash)).toBe('plug-pbkdf2');
    expect(await verifyHash(hash, password)).toBe(match);
  });

  it('rejects anything that is not a known format rather than guessing', async () => {
    for (const junk of ['', 'plain', '$1$abc$def', '$7$abc$$', 'PBKDF2$sha256$x$s$h']) {
      expect(hashFormat(junk)).toBeUndefined();
      expect(await verifyHash(junk, junk)).toBe(false);
    }
  });

  describe('made by the real mosquitto_passwd', () => {
    const folder = mkdtempSync(join(tmpdir(), 'beckon-passwd-'));
    const file = join(folder, 'passwd');

    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    function hashOf(user: string): string {
      const line = readFileSync(file, 'utf8')
        .split('\n')
        .find((candidate) => candidate.startsWith(`${user}:`));

      return line?.slice(user.length + 1) ?? '';
    }

    it('verifies the default PBKDF2-SHA512 ($7$) and the old SHA512 ($6$) formats', async () => {
      execFileSync('mosquitto_passwd', ['-b', '-c', file, 'alice', 'p@ss w0rd']);
      execFileSync('mosquitto_passwd', ['-b', '-H', 'sha512', file, 'bob', 'hunter2']);

      expect(hashFormat(hashOf('alice'))).toBe('mosquitto-pbkdf2');
      expect(hashFormat(hashOf('bob'))).toBe('mosquitto-sha512');
      expect(await verifyHash(hashOf('alice'), 'p@ss w0rd')).toBe(true);
      expect(await verifyHash(hashOf('alice'), 'p@ss w0rD')).toBe(false);
      expect(await verifyHash(hashOf('bob'), 'hunter2')).toBe(true);
      expect(await verifyHash(hashOf('bob'), 'hunter3')).toBe(false);
    });
  });
});

describe('failed-login throttle', () => {
  it('refuses a key after too many failures and lets it try again once the window ends', () => {
    let now = 0;
    const throttle = new FailureThrottle({ maxFailures: 3, windowMs: 60_000 }, () => now);

    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(throttle.retryAfterMs('10.0.0.1')).toBe(0);
      throttle.recordFailure('10.0.0.1');
    }

    expect(throttle.retryAfterMs('10.0.0.1')).toBe(60_000);
    expect(throttle.retryAfterMs('10.0.0.2')).toBe(0);

    now = 60_000;

    expect(throttle.retryAfterMs('10.0.0.1')).toBe(0);
  });
});

describe('request rate limit', () => {
  it('allows a burst, then refills at the configured rate', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 2, perSecond: 1 }, () => now);

    expect([limiter.take('a'), limiter.take('a')]).toEqual([0, 0]);
    expect(limiter.take('a')).toBe(1_000);
    expect(limiter.take('b')).toBe(0);

    now = 1_000;

    expect(limiter.take('a')).toBe(0);
  });
});
