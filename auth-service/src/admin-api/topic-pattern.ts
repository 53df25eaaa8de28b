import { MAX_TOPIC_LENGTH } from '@beckon/shared';
import { z } from 'zod';

// `+` and `#` must fill a whole level, `#` only the last; `%` only as `%u` (the username).
function isValidPattern(pattern: string): boolean {
  if (pattern.includes('\u0000') || /%(?!u)/.test(pattern)) {
    return false;
  }

  const levels = pattern.split('/');

  return levels.every((level, index) => {
    if (level.includes('#')) {
      return level === '#' && index === levels.length - 1;
    }

    return !level.includes('+') || level === '+';
  });
}

/** A topic filter for an extra ACL rule. */
export const TopicPattern = z.string().min(1).max(MAX_TOPIC_LENGTH).refine(isValidPattern, {
  error: 'must be an MQTT topic filter ("+" and "#" as whole levels, "#" last, "%" only as %u)',
});
