import * as jose from 'jose';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CLOCK_TOLERANCE_SECONDS,
  clearVerifiedCredentials,
  generateSigningKeyPair,
  issueCredential,
  signMessage,
  verifyCredential,
  verifyMessage,
  type Command,
  type SigningKeyPair,
  type TrustRoot,
} from '../src/index.js';
import { ExpiringCache } from '../src/expiring-cache.js';
import { validCommand } from './fixtures.js';

// Counts the JWT verifications signing.ts asks jose for, to see which ones the cache saved.
vi.mock('jose', async (importOriginal) => {
  const original = await importOriginal<typeof jose>();

  return { ...original, jwtVerify: vi.fn(original.jwtVerify) };
});

const ISSUER = 'beckon-auth';
const CHECK = { agentId: 'web-01', agentGroups: ['web'] };
const TTL_SECONDS = 300;
/** Messages arriving at once under one credential, as after a renewal. */
const BURST = 20;

let root: SigningKeyPair;
let app: SigningKeyPair;
let trustRoot: TrustRoot;

async function credential(signer: SigningKeyPair = root): Promise<string> {
  return issueCredential(
    { privateKey: signer.privateKey, alg: signer.alg, kid: 'k1' },
    {
      issuer: ISSUER,
      appId: 'deployer',
      publicJwk: app.publicJwk,
      grants: [{ agents: ['web-01'] }],
      ttlSeconds: TTL_SECONDS,
    },
  );
}

async function signed(token: string): Promise<Command> {
  const { auth: _auth, ...unsigned } = validCommand();

  return signMessage<Command>(unsigned, {
    privateKey: app.privateKey,
    alg: app.alg,
    credential: token,
  });
}

const jwtVerifications = () => vi.mocked(jose.jwtVerify).mock.calls.length;

beforeAll(async () => {
  root = await generateSigningKeyPair('EdDSA');
  app = await generateSigningKeyPair('EdDSA');
  trustRoot = { issuer: ISSUER, keys: [{ ...root.publicJwk, kid: 'k1' }] };
});

beforeEach(() => {
  clearVerifiedCredentials();
  vi.mocked(jose.jwtVerify).mockClear();
});

describe('verified credentials', () => {
  it('verify a credential once for many messages, and every message signature each time', async () => {
    const token = await credential();
    const command = await signed(token);

    for (let round = 0; round < 5; round += 1) {
      expect((await verifyMessage(command, { ...CHECK, trustRoot })).ok).toBe(true);
    }

    expect(jwtVerifications()).toBe(1);

    const tampered = { ...command, args: { unit: 'sshd' } };

    expect(await verifyMessage(tampered, { ...CHECK, trustRoot })).toMatchObject({
      ok: false,
      code: 'bad_signature',
    });
  });

  it('are never served past the credential expiry', async () => {
    const token = await credential();
    const now = Date.now();

    expect((await verifyCredential(token, { trustRoot })).ok).toBe(true);

    const later = new Date(now + (TTL_SECONDS + CLOCK_TOLERANCE_SECONDS + 2) * 1_000);

    expect(await verifyCredential(token, { trustRoot, currentDate: later })).toMatchObject({
      ok: false,
      code: 'untrusted_credential',
      message: 'credential has expired',
    });
    expect(jwtVerifications()).toBe(2);
  });

  it('are not reused once the trust root that verified them is replaced', async () => {
    const token = await credential();

    expect((await verifyCredential(token, { trustRoot })).ok).toBe(true);

    const rotated = await generateSigningKeyPair('EdDSA');
    const newRoot: TrustRoot = { issuer: ISSUER, keys: [{ ...rotated.publicJwk, kid: 'k2' }] };

    expect(
      await verifyMessage(await signed(token), { ...CHECK, trustRoot: newRoot }),
    ).toMatchObject({ ok: false, code: 'untrusted_credential' });
    expect((await verifyCredential(token, { trustRoot })).ok).toBe(true);
    expect(jwtVerifications()).toBe(2);
  });

  it('never remember a credential that failed', async () => {
    const rogue = await generateSigningKeyPair('EdDSA');
    const token = await credential(rogue);

    for (let round = 0; round < 2; round += 1) {
      expect((await verifyCredential(token, { trustRoot })).ok).toBe(false);
    }

    expect(jwtVerifications()).toBe(2);
  });

  it('verify a credential once when many messages under it arrive together', async () => {
    const token = await credential();
    const commands = await Promise.all(Array.from({ length: BURST }, () => signed(token)));

    const results = await Promise.all(
      commands.map((command) => verifyMessage(command, { ...CHECK, trustRoot })),
    );

    expect(results.map((result) => result.ok)).toEqual(commands.map(() => true));
    expect(jwtVerifications()).toBe(1);
  });

  it('share a verification under way only with callers inside its window', async () => {
    const token = await credential();
    const later = new Date(Date.now() + (TTL_SECONDS + CLOCK_TOLERANCE_SECONDS + 2) * 1_000);

    const [now, expired] = await Promise.all([
      verifyCredential(token, { trustRoot }),
      verifyCredential(token, { trustRoot, currentDate: later }),
    ]);

    expect(now.ok).toBe(true);
    expect(expired).toMatchObject({ ok: false, message: 'credential has expired' });
    expect(jwtVerifications()).toBe(2);
  });

  it('share no failure: each caller of a bad credential is refused by its own check', async () => {
    const rogue = await generateSigningKeyPair('EdDSA');
    const token = await credential(rogue);

    const results = await Promise.all(
      Array.from({ length: BURST }, () => verifyCredential(token, { trustRoot })),
    );

    expect(results.map((result) => result.ok)).toEqual(results.map(() => false));
    expect(jwtVerifications()).toBe(BURST);
  });

  it('hand out claims that no caller can change for the next one', async () => {
    const token = await credential();
    const first = await verifyCredential(token, { trustRoot });

    if (!first.ok) {
      throw new Error(first.message);
    }

    expect(() => first.value.grants.push({ agents: ['db-01'] })).toThrow(TypeError);
  });
});

describe('ExpiringCache', () => {
  it('serves an entry only inside its window and drops it after', () => {
    const cache = new ExpiringCache<string>(4);
    cache.set('a', 'A', 100, 200);

    expect(cache.get('a', 99)).toBeUndefined();
    expect(cache.get('a', 100)).toBe('A');
    expect(cache.get('a', 199)).toBe('A');
    expect(cache.get('a', 200)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the oldest entry at its bound', () => {
    const cache = new ExpiringCache<number>(2);
    cache.set('a', 1, 0, 10);
    cache.set('b', 2, 0, 10);
    cache.set('c', 3, 0, 10);

    expect(cache.size).toBe(2);
    expect(cache.get('a', 5)).toBeUndefined();
    expect(cache.get('b', 5)).toBe(2);
    expect(cache.get('c', 5)).toBe(3);
  });
});
