import { MAX_TOPIC_LENGTH } from '@beckon/shared';

// MQTT topic names and filters as the broker sees them. Every function here is conservative:
// anything malformed matches nothing, so a strange input can only narrow access.

const SINGLE = '+';
const MULTI = '#';
const SINGLE_CODE = SINGLE.charCodeAt(0);
const MULTI_CODE = MULTI.charCodeAt(0);
const SLASH_CODE = '/'.charCodeAt(0);

/** A concrete topic a client publishes to or receives on: no wildcards, no NUL, bounded. */
export function isTopicName(topic: string): boolean {
  return (
    topic.length > 0 &&
    topic.length <= MAX_TOPIC_LENGTH &&
    !topic.includes(SINGLE) &&
    !topic.includes(MULTI) &&
    !topic.includes('\0')
  );
}

/** A subscription filter: `+` only as a whole level, `#` only as the whole last level. */
export function isTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > MAX_TOPIC_LENGTH || filter.includes('\0')) {
    return false;
  }

  // A character scan rather than a split: every cold ACL check validates its topic this way.
  const last = filter.length - 1;

  for (let index = 0; index <= last; index += 1) {
    const code = filter.charCodeAt(index);

    if (code !== SINGLE_CODE && code !== MULTI_CODE) {
      continue;
    }

    const wholeLevel =
      (index === 0 || filter.charCodeAt(index - 1) === SLASH_CODE) &&
      (index === last || filter.charCodeAt(index + 1) === SLASH_CODE);

    if (!wholeLevel || (code === MULTI_CODE && index !== last)) {
      return false;
    }
  }

  return true;
}

function isWildcard(level: string | undefined): boolean {
  return level === SINGLE || level === MULTI;
}

// MQTT 3.1.1 section 4.7.2: a filter starting with a wildcard never matches a `$` topic.
function hidesDollar(filterFirst: string | undefined, topicFirst: string | undefined): boolean {
  return isWildcard(filterFirst) && (topicFirst?.startsWith('$') ?? false);
}

/** A topic or filter split into its levels. */
export function levelsOf(topic: string): readonly string[] {
  return topic.split('/');
}

/** True when `topic` (a concrete name) is matched by `filter`. */
export function topicMatches(filter: string, topic: string): boolean {
  return levelsMatch(levelsOf(filter), levelsOf(topic));
}

/** topicMatches on topics already split into levels (the decision engine splits each once). */
export function levelsMatch(
  filterLevels: readonly string[],
  topicLevels: readonly string[],
): boolean {
  if (hidesDollar(filterLevels[0], topicLevels[0])) {
    return false;
  }

  for (let index = 0; index < filterLevels.length; index += 1) {
    const level = filterLevels[index];

    if (level === MULTI) {
      return true;
    }

    const topicLevel = topicLevels[index];

    if (topicLevel === undefined) {
      return false;
    }

    if (level !== SINGLE && level !== topicLevel) {
      return false;
    }
  }

  return filterLevels.length === topicLevels.length;
}

/**
 * True when every topic `inner` can match is also matched by `outer`: a rule with pattern
 * `outer` then allows the subscription `inner` as a whole.
 */
export function filterCovers(outer: string, inner: string): boolean {
  return levelsCover(levelsOf(outer), levelsOf(inner));
}

/** filterCovers on filters already split into levels. */
export function levelsCover(
  outerLevels: readonly string[],
  innerLevels: readonly string[],
): boolean {
  // A literal `$` first level is only covered by the same literal, never by a wildcard.
  if (hidesDollar(outerLevels[0], innerLevels[0])) {
    return false;
  }

  // Outer's first-level wildcard hides `$` topics that inner's first-level wildcard does not
  // match either, so those cases need no special handling.
  for (let index = 0; index < innerLevels.length; index += 1) {
    const outerLevel = outerLevels[index];
    const innerLevel = innerLevels[index];

    if (outerLevel === MULTI) {
      return true;
    }

    if (outerLevel === undefined) {
      return false;
    }

    if (innerLevel === MULTI) {
      return false;
    }

    if (innerLevel === SINGLE) {
      if (outerLevel !== SINGLE) {
        return false;
      }

      continue;
    }

    if (outerLevel !== SINGLE && outerLevel !== innerLevel) {
      return false;
    }
  }

  const rest = outerLevels.length - innerLevels.length;

  // `a/#` also matches the parent `a`.
  return rest === 0 || (rest === 1 && outerLevels[innerLevels.length] === MULTI);
}

/** True when at least one concrete topic is matched by both filters. */
export function filtersIntersect(first: string, second: string): boolean {
  return levelsIntersect(levelsOf(first), levelsOf(second));
}

/** filtersIntersect on filters already split into levels. */
export function levelsIntersect(a: readonly string[], b: readonly string[]): boolean {
  if (hidesDollar(a[0], b[0]) || hidesDollar(b[0], a[0])) {
    return false;
  }

  const shared = Math.min(a.length, b.length);

  for (let index = 0; index < shared; index += 1) {
    const levelA = a[index];
    const levelB = b[index];

    if (levelA === MULTI || levelB === MULTI) {
      return true;
    }

    if (levelA !== SINGLE && levelB !== SINGLE && levelA !== levelB) {
      return false;
    }
  }

  if (a.length === b.length) {
    return true;
  }

  const longer = a.length > b.length ? a : b;

  return longer.length === shared + 1 && longer[shared] === MULTI;
}
