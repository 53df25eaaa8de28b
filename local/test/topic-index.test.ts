import { topicMatches } from '@beckon/auth-service';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FilterIndex, RetainedIndex } from '../src/topic-index.js';

// The indexes must find exactly what checking every filter or topic one by one finds; the
// auth-service's topicMatches is that one-by-one check, tested on its own.

const levelArb = fc.constantFrom('a', 'b', '', '$sys');
const topicArb = fc.array(levelArb, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
const filterArb = fc
  .tuple(
    fc.array(fc.constantFrom('a', 'b', '', '+', '$sys'), { minLength: 1, maxLength: 4 }),
    fc.boolean(),
  )
  .map(([levels, multi]) => (multi ? [...levels, '#'] : levels).join('/'))
  .chain((filter) => fc.constantFrom(filter, '#', '+'));
const clientArb = fc.constantFrom('c1', 'c2', 'c3');

type FilterOp = readonly ['add' | 'delete', string, string] | readonly ['drop', string];

const filterOpArb: fc.Arbitrary<FilterOp> = fc.oneof(
  fc.tuple(fc.constantFrom('add' as const, 'delete' as const), clientArb, filterArb),
  fc.tuple(fc.constant('drop' as const), clientArb),
);

describe('FilterIndex', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'a/b', true],
    ['+/+', 'a', false],
    ['a/b', 'a/b/c', false],
    ['#', '$SYS/uptime', false],
    ['+/denied', '$beckon/denied', false],
    ['$beckon/denied', '$beckon/denied', true],
    ['$beckon/+', '$beckon/denied', true],
    ['a//c', 'a//c', true],
    ['a/+/c', 'a//c', true],
  ])('finds the client of %s for %s: %s', (filter, topic, expected) => {
    const index = new FilterIndex();
    index.add('c1', filter);

    expect(index.clientsMatching(topic).has('c1')).toBe(expected);
  });

  it('finds the same clients as checking each filter after any adds and removals', () => {
    fc.assert(
      fc.property(fc.array(filterOpArb, { maxLength: 30 }), topicArb, (ops, topic) => {
        const index = new FilterIndex();
        const model = new Map<string, Set<string>>();

        for (const op of ops) {
          if (op[0] === 'drop') {
            index.deleteClient(op[1]);
            model.delete(op[1]);
          } else if (op[0] === 'add') {
            index.add(op[1], op[2]);
            model.set(op[1], (model.get(op[1]) ?? new Set()).add(op[2]));
          } else {
            index.delete(op[1], op[2]);
            model.get(op[1])?.delete(op[2]);
          }
        }

        const expected = [...model]
          .filter(([, filters]) => [...filters].some((filter) => topicMatches(filter, topic)))
          .map(([client]) => client);

        expect([...index.clientsMatching(topic)].sort()).toEqual(expected.sort());
      }),
      { numRuns: 500 },
    );
  });

  it('forgets a removed filter even when another client still holds it', () => {
    const index = new FilterIndex();
    index.add('c1', 'a/+');
    index.add('c2', 'a/+');
    index.delete('c1', 'a/+');

    expect([...index.clientsMatching('a/b')]).toEqual(['c2']);

    index.deleteClient('c2');

    expect(index.clientsMatching('a/b').size).toBe(0);
  });
});

describe('RetainedIndex', () => {
  it('finds the same topics as checking each topic after any stores and removals', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), topicArb), { maxLength: 30 }),
        filterArb,
        (ops, filter) => {
          const index = new RetainedIndex();
          const model = new Set<string>();

          for (const [store, topic] of ops) {
            if (store) {
              index.add(topic);
              model.add(topic);
            } else {
              index.delete(topic);
              model.delete(topic);
            }
          }

          const expected = [...model].filter((topic) => topicMatches(filter, topic));

          expect(index.topicsMatching(filter, Number.MAX_SAFE_INTEGER).sort()).toEqual(
            expected.sort(),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('stops at the limit', () => {
    const index = new RetainedIndex();

    for (let n = 0; n < 50; n += 1) {
      index.add(`beckon/v1/agents/a${n}/status`);
    }

    expect(index.topicsMatching('beckon/#', 10)).toHaveLength(10);
    expect(index.topicsMatching('beckon/v1/agents/+/status', 7)).toHaveLength(7);
    expect(index.topicsMatching('beckon/v1/agents/a3/status', 7)).toEqual([
      'beckon/v1/agents/a3/status',
    ]);
  });

  it('keeps the deeper topics when a shorter one is removed', () => {
    const index = new RetainedIndex();
    index.add('a');
    index.add('a/b');
    index.delete('a');

    expect(index.topicsMatching('a/#', 10)).toEqual(['a/b']);
    expect(index.topicsMatching('a', 10)).toEqual([]);
  });
});
