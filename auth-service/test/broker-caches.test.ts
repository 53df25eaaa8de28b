import { describe, expect, it } from 'vitest';
import { CredentialCache } from '../src/broker/credential-cache.js';
import { DecisionCache } from '../src/broker/decision-cache.js';
import { FirstSight } from '../src/broker/first-sight.js';
import { FailureBuckets } from '../src/broker/login-throttle.js';
import { TokenVerifier } from '../src/broker/token-verifier.js';
import { allow, deny } from '../src/decide/decision.js';
import { MemoryDirectory } from './helpers/memory-directory.js';
import { brokerToken, makeTrustKey } from './helpers/trust-root.js';

// The caches and tables of the hot path stay bounded and forget what they must forget.

describe('the verified-credential cache', () => {
  it('trusts a secret for its TTL and not a moment longer', () => {
    let clock = 0;
    const cache = new CredentialCache(1_000, 10, () => clock);
    const digest = cache.digest('agent-a', 'secret');
    cache.add(digest, { username: 'agent-a', stamp: 's1' });

    clock = 999;
    expect(cache.has(digest)).toBe(true);
    clock = 1_000;
    expect(cache.has(digest)).toBe(false);
  });

  it('keys by username and secret together, through a per-process HMAC', () => {
    const cache = new CredentialCache(1_000, 10);
    const other = new CredentialCache(1_000, 10);

    expect(cache.digest('ab', 'c')).not.toBe(cache.digest('a', 'bc'));
    expect(cache.digest('a', 'b')).not.toBe(other.digest('a', 'b'));
    expect(cache.digest('a', 'secret')).not.toContain('secret');
  });

  it('holds at most its number of entries, dropping the oldest', () => {
    const cache = new CredentialCache(60_000, 2);
    const [first, second, third] = ['a', 'b', 'c'].map((user) => cache.digest(user, 'x'));
    cache.add(first!, { username: 'a', stamp: 's1' });
    cache.add(second!, { username: 'b', stamp: 's1' });
    cache.add(third!, { username: 'c', stamp: 's1' });

    expect([cache.has(first!), cache.has(second!), cache.has(third!)]).toEqual([false, true, true]);
  });

  it('keeps nothing when its TTL is 0', () => {
    const cache = new CredentialCache(0, 2);
    const digest = cache.digest('a', 'x');
    cache.add(digest, { username: 'a', stamp: 's1' });

    expect(cache.has(digest)).toBe(false);
  });
});

describe('the decision cache', () => {
  // Each answer is offered twice: the cache keeps an answer only when its check comes again.
  function offerTwice(cache: DecisionCache, ...entry: Parameters<DecisionCache['offer']>): void {
    cache.offer(...entry);
    cache.offer(...entry);
  }

  it('keeps answers apart by username, topic and access', () => {
    const cache = new DecisionCache(10);
    offerTwice(cache, 'a', 't', 'read', allow('rule-allow'));
    offerTwice(cache, 'a', 't', 'write', deny('no-permission'));

    expect(cache.get('a', 't', 'read')?.allowed).toBe(true);
    expect(cache.get('a', 't', 'write')?.allowed).toBe(false);
    expect(cache.get('a', 't', 'subscribe')).toBeUndefined();
    expect(cache.get('b', 't', 'read')).toBeUndefined();
  });

  it('keeps no answer the first time its check is offered', () => {
    const cache = new DecisionCache(10);
    cache.offer('a', 't', 'read', allow('rule-allow'));
    cache.offer('a', 't', 'write', allow('rule-allow'));
    cache.offer('b', 't', 'read', allow('rule-allow'));

    expect(cache.size).toBe(0);
    expect(cache.get('a', 't', 'read')).toBeUndefined();

    cache.offer('a', 't', 'read', allow('rule-allow'));
    expect(cache.size).toBe(1);
    expect(cache.get('a', 't', 'read')?.allowed).toBe(true);
  });

  it('keeps nothing of a stream of checks that never repeat', () => {
    const cache = new DecisionCache(100_000);

    for (let index = 0; index < 50_000; index += 1) {
      cache.offer(
        `agent-${index % 500}`,
        `beckon/v1/agents/x/${index}`,
        'write',
        deny('no-permission'),
      );
    }

    // A false "seen before" keeps a stray answer now and then; far fewer than one in fifty.
    expect(cache.size).toBeLessThan(1_000);
  });

  it('starts over when full instead of growing', () => {
    const cache = new DecisionCache(3);

    for (const topic of ['t1', 't2', 't3', 't4']) {
      offerTwice(cache, 'a', topic, 'read', allow('rule-allow'));
    }

    expect(cache.size).toBe(1);
    expect(cache.get('a', 't4', 'read')).toBeDefined();
  });
});

describe('first sight', () => {
  it('says false for a new key and true when it comes again', () => {
    const sight = new FirstSight();

    expect(sight.seenBefore('app-a', 'beckon/v1/agents/a/commands', 1)).toBe(false);
    expect(sight.seenBefore('app-a', 'beckon/v1/agents/a/commands', 1)).toBe(true);
    expect(sight.seenBefore('app-a', 'beckon/v1/agents/a/commands', 2)).toBe(false);
    expect(sight.seenBefore('app-b', 'beckon/v1/agents/a/commands', 1)).toBe(false);
  });

  it('tells the parts of a key apart', () => {
    const sight = new FirstSight();
    sight.seenBefore('ab', 'c', 0);

    expect(sight.seenBefore('a', 'bc', 0)).toBe(false);
  });

  it('passes new keys for seen ones rarely, even as it fills', () => {
    const bits = 1 << 16;
    const sight = new FirstSight(bits);
    let falseSightings = 0;
    // Up to the moment it starts over (one sixteenth of its bits), then past it.
    const keys = bits / 16 + 2_000;

    for (let index = 0; index < keys; index += 1) {
      if (sight.seenBefore(`agent-${index}`, `beckon/v1/agents/agent-${index}/results`, 1)) {
        falseSightings += 1;
      }
    }

    expect(falseSightings / keys).toBeLessThan(0.02);
  });

  it('forgets everything once full, and remembers again after', () => {
    const bits = 1 << 10;
    const sight = new FirstSight(bits);
    sight.seenBefore('first', 't', 0);

    // Enough other keys to reach its limit of bits / 16 marks and start over.
    for (let index = 0; index < bits / 16; index += 1) {
      sight.seenBefore(`k${index}`, 't', 0);
    }

    expect(sight.seenBefore('first', 't', 0)).toBe(false);
    expect(sight.seenBefore('first', 't', 0)).toBe(true);
  });

  it('refuses a table that is not a power of two', () => {
    expect(() => new FirstSight(1_000)).toThrow(/power of two/);
    expect(() => new FirstSight(16)).toThrow(/at least 32/);
  });
});

describe('failure buckets', () => {
  it('forget a key once it has earned its burst back, and stay within their bound', () => {
    let clock = 0;
    const buckets = new FailureBuckets(2, 100, 3, () => clock);

    buckets.recordFailure('a');
    expect(buckets.size).toBe(1);
    clock = 100;
    expect(buckets.isEmpty('a')).toBe(false);
    expect(buckets.size).toBe(0);

    for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) {
      buckets.recordFailure(key);
    }

    expect(buckets.size).toBe(3);
  });

  it('say when a failure empties the bucket, once', () => {
    const buckets = new FailureBuckets(2, 60_000, 10);

    expect(buckets.recordFailure('a')).toBe(false);
    expect(buckets.recordFailure('a')).toBe(true);
    expect(buckets.recordFailure('a')).toBe(false);
    expect(buckets.isEmpty('a')).toBe(true);
  });
});

describe('the token verifier', () => {
  it('remembers a token until its exp and no longer', async () => {
    const key = await makeTrustKey('k1');
    const snapshot = new MemoryDirectory({ trustKeys: [key.trustKey] }).current();
    let clock = Date.now();
    const verifier = new TokenVerifier(snapshot, 'beckon-broker', 10, () => clock);
    const token = await brokerToken(key, { sub: 'app-p', expiresIn: 60 });

    expect(verifier.cached(token)).toBeUndefined();
    expect(await verifier.verify(token)).toEqual({ ok: true, subject: 'app-p' });
    expect(verifier.cached(token)).toBe('app-p');

    clock += 61_000;
    expect(verifier.cached(token)).toBeUndefined();
  });

  it('refuses everything when the trust root has no keys', async () => {
    const key = await makeTrustKey('k1');
    const snapshot = new MemoryDirectory().current();
    const verifier = new TokenVerifier(snapshot, 'beckon-broker', 10);

    expect(await verifier.verify(await brokerToken(key, { sub: 'app-p' }))).toMatchObject({
      ok: false,
    });
  });
});
