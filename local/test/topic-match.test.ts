import { describe, expect, it } from 'vitest';
import { topicMatches } from '../src/topic-match.js';

describe('topicMatches', () => {
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
    ['a//c', 'a//c', true],
    ['a/+/c', 'a//c', true],
  ])('%s against %s is %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});
