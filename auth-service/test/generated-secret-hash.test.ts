import * as crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSecret } from '../src/secrets/generate-secret.js';
import {
  hashGeneratedSecret,
  verifyGeneratedSecret,
} from '../src/secrets/generated-secret-hash.js';
import { hashSecret } from '../src/secrets/scrypt-hash.js';
import { hashFormat, verifyHash } from '../src/secrets/verify-hash.js';
import { call, startTestService, textAt, type TestService } from './helpers/service.js';

// The fast `$hmac-sha256$` format for secrets the service generates (192 random bits), and
// that every path handing out a secret uses it while `$scrypt$` hashes keep verifying.

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();

  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const FORMAT = /^\$hmac-sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/;

describe('the generated-secret hash', () => {
  it('round-trips, is salted per hash and does not contain the secret', async () => {
    const secret = generateSecret();
    const first = hashGeneratedSecret(secret);
    const second = hashGeneratedSecret(secret);

    expect(first).toMatch(FORMAT);
    expect(first).not.toBe(second);
    expect(first).not.toContain(secret);
    expect(hashFormat(first)).toBe('hmac-sha256');
    expect(verifyGeneratedSecret(first, secret)).toBe(true);
    expect(verifyGeneratedSecret(second, secret)).toBe(true);
    expect(await verifyHash(first, secret)).toBe(true);
  });

  it('refuses a wrong secret, including one a character off', async () => {
    const secret = generateSecret();
    const hash = hashGeneratedSecret(secret);
    const oneOff = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;

    expect(verifyGeneratedSecret(hash, generateSecret())).toBe(false);
    expect(verifyGeneratedSecret(hash, oneOff)).toBe(false);
    expect(verifyGeneratedSecret(hash, '')).toBe(false);
    expect(await verifyHash(hash, oneOff)).toBe(false);
  });

  it('rejects malformed hashes: they match no format and verify nothing', async () => {
    const secret = generateSecret();
    const hash = hashGeneratedSecret(secret);
    const [, , salt = '', digest = ''] = hash.split('$');
    const malformed = [
      hash.slice(0, -1),
      `${hash}A`,
      hash.replace('$hmac-sha256$', '$hmac-sha512$'),
      hash.replace('$hmac-sha256$', 'hmac-sha256$'),
      `$hmac-sha256$${salt}$${digest.slice(0, 42)}=`,
      `$hmac-sha256$${salt.slice(0, 21)}+$${digest}`,
      `$hmac-sha256$${salt}$${digest}$`,
      `$hmac-sha256$$${digest}`,
      `$hmac-sha256$${salt}`,
    ];

    for (const junk of malformed) {
      expect(hashFormat(junk), junk).toBeUndefined();
      expect(verifyGeneratedSecret(junk, secret), junk).toBe(false);
      expect(await verifyHash(junk, secret), junk).toBe(false);
    }
  });

  it('compares the whole digest in constant time, right or wrong', () => {
    const compare = vi.mocked(crypto.timingSafeEqual);
    const secret = generateSecret();
    const hash = hashGeneratedSecret(secret);

    for (const candidate of [secret, generateSecret(), 'x']) {
      compare.mockClear();
      verifyGeneratedSecret(hash, candidate);

      expect(compare).toHaveBeenCalledTimes(1);
      const [given, stored] = compare.mock.calls[0] ?? [];
      expect(Buffer.isBuffer(given) && given.length).toBe(32);
      expect(Buffer.isBuffer(stored) && stored.length).toBe(32);
    }
  });

  it('is only for generated secrets: a chosen password is refused', () => {
    for (const chosen of ['hunter2', '', `${generateSecret()}x`, 'a'.repeat(31), 'ä'.repeat(32)]) {
      expect(() => hashGeneratedSecret(chosen)).toThrow(TypeError);
    }
  });

  it('lives beside $scrypt$ hashes, which keep verifying', async () => {
    const secret = generateSecret();
    const old = await hashSecret(secret);

    expect(hashFormat(old)).toBe('scrypt');
    expect(await verifyHash(old, secret)).toBe(true);
    expect(await verifyHash(old, generateSecret())).toBe(false);
  });
});

describe('secrets the service hands out', () => {
  let test: TestService;

  beforeAll(async () => {
    test = await startTestService();
  });

  afterAll(async () => {
    await test.close();
  });

  const admin = (path: string, body?: Record<string, unknown>) =>
    call(`${test.adminUrl}${path}`, { token: test.adminToken, ...(body ? { body } : {}) });

  async function storedHash(id: string): Promise<string | undefined> {
    return test.service.store.read(async (reader) => (await reader.listSecretHashes()).get(id));
  }

  it('are stored in the fast format when an agent or app is created or rotated', async () => {
    const agent = await admin('/v1/agents', { id: 'fast-agent' });
    const app = await admin('/v1/apps', { id: 'fast-app' });

    expect(agent.status).toBe(201);
    expect(app.status).toBe(201);
    expect(await storedHash('fast-agent')).toMatch(FORMAT);
    expect(await storedHash('fast-app')).toMatch(FORMAT);
    expect(
      await test.service.directory.verifySecret('fast-agent', textAt(agent.body, 'secret')),
    ).toBe(true);

    const before = await storedHash('fast-agent');
    const rotated = await call(`${test.adminUrl}/v1/agents/fast-agent/rotate-secret`, {
      token: test.adminToken,
      method: 'POST',
    });

    expect(rotated.status).toBe(200);
    expect(await storedHash('fast-agent')).toMatch(FORMAT);
    expect(await storedHash('fast-agent')).not.toBe(before);
  });

  it('are stored in the fast format when an agent enrolls', async () => {
    const issued = await admin('/v1/enroll-tokens', { agentId: 'fast-enrolled' });
    const enrolled = await call(`${test.publicUrl}/v1/enroll`, {
      body: { token: textAt(issued.body, 'token') },
    });

    expect(enrolled.status).toBe(201);
    expect(await storedHash('fast-enrolled')).toMatch(FORMAT);
    expect(
      await test.service.directory.verifySecret('fast-enrolled', textAt(enrolled.body, 'password')),
    ).toBe(true);
  });
});
