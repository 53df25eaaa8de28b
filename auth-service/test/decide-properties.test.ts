import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecisionEngine } from '../src/decide/decision-engine.js';
import { topicMatches } from '../src/decide/topic-match.js';
import type { AclAccess, AclRule } from '../src/directory/types.js';
import { MemoryDirectory } from './helpers/memory-directory.js';

// Properties of the engine over random rule sets: a subscription is allowed only if every topic
// it can deliver would be allowed on its own, and no malformed username is ever allowed.

const LEVELS = ['a', 'b', '%u', 'user-1'];
const patternArb = fc
  .tuple(fc.array(fc.constantFrom(...LEVELS, '+'), { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([levels, multi]) => (multi ? [...levels, '#'] : levels).join('/'));
const accessArb = fc.subarray<AclAccess>(['read', 'write', 'subscribe'], { minLength: 1 });
const ruleArb = fc.record({
  id: fc.uuid(),
  subject: fc.constantFrom<AclRule['subject']>(
    { kind: 'all' },
    { kind: 'principal', id: 'user-1' },
    { kind: 'group', name: 'g' },
  ),
  pattern: patternArb,
  access: accessArb,
  effect: fc.constantFrom<AclRule['effect']>('allow', 'deny'),
});
const filterArb = fc
  .tuple(
    fc.array(fc.constantFrom('a', 'b', 'user-1', '+'), { minLength: 1, maxLength: 3 }),
    fc.boolean(),
  )
  .map(([levels, multi]) => (multi ? [...levels, '#'] : levels).join('/'));

// Concrete topics up to four levels over the alphabet plus one value no pattern names.
const universe: string[] = (() => {
  const topics: string[] = [];
  const grow = (prefix: string[]): void => {
    if (prefix.length > 0) {
      topics.push(prefix.join('/'));
    }

    if (prefix.length < 4) {
      for (const next of ['a', 'b', 'user-1', 'z']) {
        grow([...prefix, next]);
      }
    }
  };
  grow([]);

  return topics;
})();

function engineWith(rules: AclRule[]): DecisionEngine {
  return new DecisionEngine(
    new MemoryDirectory({
      principals: [{ id: 'user-1', kind: 'app', groups: ['g'] }],
      rules,
    }).current(),
  );
}

// The rules the engine prepares (shared, `%u` filled in at match time) must decide exactly as
// the plain reading does: fill `%u` in for the principal, then the first deny that hits wins,
// else the first allow. Only topic checks here (subscriptions have their own property above).
function referenceAllows(rules: readonly AclRule[], topic: string, access: AclAccess): boolean {
  const applying = rules
    .filter((rule) => rule.subject.kind !== 'principal' || rule.subject.id === 'user-1')
    .filter((rule) => rule.access.includes(access))
    .map((rule) => ({ ...rule, pattern: rule.pattern.replaceAll('%u', 'user-1') }));
  const hits = (rule: AclRule): boolean => topicMatches(rule.pattern, topic);

  if (applying.some((rule) => rule.effect === 'deny' && hits(rule))) {
    return false;
  }

  return applying.some((rule) => rule.effect === 'allow' && hits(rule));
}

describe('decision engine properties', () => {
  it('decides topic checks as filling %u in for the principal and reading the rules would', () => {
    const levelArb = fc.constantFrom('a', 'user-1', 'x-user-1', 'z');
    const topicArb = fc.array(levelArb, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
    const partialRuleArb = ruleArb.chain((base) =>
      fc
        .constantFrom(base.pattern, base.pattern.replace('%u', 'x-%u'))
        .map((pattern) => ({ ...base, pattern })),
    );

    fc.assert(
      fc.property(
        fc.array(partialRuleArb, { maxLength: 5 }),
        topicArb,
        fc.constantFrom<AclAccess>('read', 'write'),
        (rules, topic, access) => {
          const engine = engineWith(rules);

          expect(engine.checkAcl('user-1', topic, access).allowed).toBe(
            referenceAllows(rules, topic, access),
          );
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('allows a subscription filter only if each topic it can deliver is allowed alone', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 4 }), filterArb, (rules, filter) => {
        const engine = engineWith(rules);

        if (!engine.checkAcl('user-1', filter, 'subscribe').allowed) {
          return;
        }

        for (const topic of universe.filter((candidate) => topicMatches(filter, candidate))) {
          expect(engine.checkAcl('user-1', topic, 'subscribe').allowed, topic).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never allows anything to a username that is not a principal id', () => {
    const hostile = fc.oneof(
      fc.constantFrom('+', '#', 'user-1/x', 'user-1\u0000', '%u', 'user-1+', ''),
      fc.string({ unit: fc.constantFrom('a', '/', '+', '#', '%', '\u0000', ' ') }),
    );

    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 4 }),
        hostile,
        filterArb,
        (rules, name, filter) => {
          fc.pre(!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(name));
          const engine = engineWith(rules.map((rule) => ({ ...rule, subject: { kind: 'all' } })));

          for (const access of ['read', 'write', 'subscribe'] as const) {
            expect(engine.checkAcl(name, filter, access).allowed).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
