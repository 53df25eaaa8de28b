import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  filterCovers,
  filtersIntersect,
  isTopicFilter,
  isTopicName,
  topicMatches,
} from '../src/decide/topic-match.js';

// Topic and filter matching, pinned by examples and checked against brute force: the
// subscription decisions rest on filterCovers and filtersIntersect being exactly right.

const level = fc.constantFrom('a', 'b', '$s', '');
const topicArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((levels) => levels.join('/'));
const filterArb = fc
  .tuple(
    fc.array(fc.constantFrom('a', 'b', '$s', '', '+'), { minLength: 1, maxLength: 4 }),
    fc.boolean(),
  )
  .map(([levels, multi]) => (multi ? [...levels, '#'] : levels).join('/'));

// Every concrete topic of up to five levels over the same small alphabet.
const universe: string[] = (() => {
  const topics: string[] = [];
  const levels = ['a', 'b', '$s', '', 'c'];
  const grow = (prefix: string[]): void => {
    if (prefix.length > 0) {
      topics.push(prefix.join('/'));
    }

    if (prefix.length < 5) {
      for (const next of levels) {
        grow([...prefix, next]);
      }
    }
  };
  grow([]);

  return topics;
})();

describe('topicMatches', () => {
  it.each([
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'a/b', true],
    ['+', 'a/b', false],
    ['+/+', '/x', true],
    ['#', '$SYS/uptime', false],
    ['+/uptime', '$SYS/uptime', false],
    ['$SYS/#', '$SYS/uptime', true],
  ])('%s against %s is %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('isTopicName and isTopicFilter', () => {
  it('tells names from filters and refuses malformed ones', () => {
    expect(isTopicName('a/b')).toBe(true);
    expect(isTopicName('a/+')).toBe(false);
    expect(isTopicName('a\u0000')).toBe(false);
    expect(isTopicFilter('a/+/#')).toBe(true);
    expect(isTopicFilter('a/#/b')).toBe(false);
    expect(isTopicFilter('a/b+')).toBe(false);
    expect(isTopicFilter('a#')).toBe(false);
    expect(isTopicFilter('')).toBe(false);
  });
});

describe('filterCovers', () => {
  it('holds exactly when every topic of the inner filter matches the outer one', () => {
    fc.assert(
      fc.property(filterArb, filterArb, (outer, inner) => {
        const bruteForce = universe
          .filter((topic) => topicMatches(inner, topic))
          .every((topic) => topicMatches(outer, topic));

        // The universe is finite, so brute force can only under-approximate "covers" for
        // filters ending in # (deeper topics exist); covers must never claim more.
        if (filterCovers(outer, inner)) {
          expect(bruteForce).toBe(true);
        } else if (!inner.endsWith('#')) {
          expect(bruteForce).toBe(false);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('filtersIntersect', () => {
  it('holds exactly when some topic matches both filters', () => {
    fc.assert(
      fc.property(filterArb, filterArb, (first, second) => {
        const bruteForce = universe.some(
          (topic) => topicMatches(first, topic) && topicMatches(second, topic),
        );

        expect(filtersIntersect(first, second)).toBe(bruteForce);
      }),
      { numRuns: 400 },
    );
  });

  it('agrees with topicMatches when one side is a concrete topic', () => {
    fc.assert(
      fc.property(filterArb, topicArb, (filter, topic) => {
        expect(filtersIntersect(filter, topic)).toBe(topicMatches(filter, topic));
      }),
    );
  });
});
