/** True when an MQTT topic filter (with `+` and `#`) matches a concrete topic. */
export function topicMatches(filter: string, topic: string): boolean {
  // `$` topics are reserved for the broker and never match a filter that starts with a wildcard.
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) {
    return false;
  }

  const filterLevels = filter.split('/');
  const topicLevels = topic.split('/');

  for (let index = 0; index < filterLevels.length; index += 1) {
    const level = filterLevels[index];

    if (level === '#') {
      return index === filterLevels.length - 1;
    }

    if (index >= topicLevels.length) {
      return false;
    }

    if (level !== '+' && level !== topicLevels[index]) {
      return false;
    }
  }

  return filterLevels.length === topicLevels.length;
}
