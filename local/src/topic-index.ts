// Tries over topic levels for the embedded broker's two lookups that run on every message: the
// clients whose filters match a published topic, and the retained topics a new subscription
// matches. Scanning every client or every retained message instead made each lookup cost one
// check per connected agent, so a storm of N agents cost N² (the connect-storm benchmark spent
// most of the broker's CPU there).

const SEPARATOR = '/';
const SINGLE = '+';
const MULTI = '#';

/** `$` topics are the broker's own: a filter starting with a wildcard never matches them. */
function isReserved(level: string): boolean {
  return level.startsWith('$');
}

/** The node for a topic or filter's levels, made along the way where missing. */
function nodeAt<N extends { readonly children: Map<string, N> }>(
  root: N,
  path: string,
  create: () => N,
): N {
  let node = root;

  for (const level of path.split(SEPARATOR)) {
    let child = node.children.get(level);

    if (child === undefined) {
      child = create();
      node.children.set(level, child);
    }

    node = child;
  }

  return node;
}

class FilterNode {
  readonly children = new Map<string, FilterNode>();
  readonly clients = new Set<string>();
}

/** The subscribed filters of connected clients, found by the topics they match. */
export class FilterIndex {
  readonly #root = new FilterNode();
  readonly #byClient = new Map<string, Set<string>>();

  add(clientId: string, filter: string): void {
    const filters = this.#byClient.get(clientId) ?? new Set<string>();

    if (filters.has(filter)) {
      return;
    }

    filters.add(filter);
    this.#byClient.set(clientId, filters);
    nodeAt(this.#root, filter, () => new FilterNode()).clients.add(clientId);
  }

  delete(clientId: string, filter: string): void {
    const filters = this.#byClient.get(clientId);

    if (filters?.delete(filter) !== true) {
      return;
    }

    if (filters.size === 0) {
      this.#byClient.delete(clientId);
    }

    removeFilter(this.#root, filter.split(SEPARATOR), 0, clientId);
  }

  deleteClient(clientId: string): void {
    for (const filter of [...(this.#byClient.get(clientId) ?? [])]) {
      this.delete(clientId, filter);
    }
  }

  /** Every client with at least one filter that matches `topic`. */
  clientsMatching(topic: string): Set<string> {
    const found = new Set<string>();
    collectClients(this.#root, topic.split(SEPARATOR), 0, found);

    return found;
  }
}

// Removes the client from the filter's node and prunes the nodes left empty; true when `node`
// itself is now empty.
function removeFilter(
  node: FilterNode,
  levels: readonly string[],
  index: number,
  clientId: string,
): boolean {
  if (index === levels.length) {
    node.clients.delete(clientId);
  } else {
    const level = levels[index] ?? '';
    const child = node.children.get(level);

    if (child !== undefined && removeFilter(child, levels, index + 1, clientId)) {
      node.children.delete(level);
    }
  }

  return node.clients.size === 0 && node.children.size === 0;
}

function collectClients(
  node: FilterNode,
  levels: readonly string[],
  index: number,
  found: Set<string>,
): void {
  const wildcardsApply = index > 0 || !isReserved(levels[0] ?? '');

  // `a/#` also matches `a` itself, so the multi-level child counts before the end is checked.
  if (wildcardsApply) {
    addAll(found, node.children.get(MULTI)?.clients);
  }

  if (index === levels.length) {
    addAll(found, node.clients);

    return;
  }

  const exact = node.children.get(levels[index] ?? '');

  if (exact !== undefined) {
    collectClients(exact, levels, index + 1, found);
  }

  const single = wildcardsApply ? node.children.get(SINGLE) : undefined;

  if (single !== undefined) {
    collectClients(single, levels, index + 1, found);
  }
}

function addAll(target: Set<string>, source: ReadonlySet<string> | undefined): void {
  for (const value of source ?? []) {
    target.add(value);
  }
}

class TopicNode {
  readonly children = new Map<string, TopicNode>();
  /** The whole topic when a retained message is stored under it. */
  topic: string | undefined;
}

/** The topics that hold a retained message, found by the filters that match them. */
export class RetainedIndex {
  readonly #root = new TopicNode();

  add(topic: string): void {
    nodeAt(this.#root, topic, () => new TopicNode()).topic = topic;
  }

  delete(topic: string): void {
    removeTopic(this.#root, topic.split(SEPARATOR), 0);
  }

  /** Up to `limit` retained topics that `filter` matches. */
  topicsMatching(filter: string, limit: number): string[] {
    const found: string[] = [];
    collectTopics(this.#root, filter.split(SEPARATOR), 0, found, limit);

    return found;
  }
}

function removeTopic(node: TopicNode, levels: readonly string[], index: number): boolean {
  if (index === levels.length) {
    node.topic = undefined;
  } else {
    const level = levels[index] ?? '';
    const child = node.children.get(level);

    if (child !== undefined && removeTopic(child, levels, index + 1)) {
      node.children.delete(level);
    }
  }

  return node.topic === undefined && node.children.size === 0;
}

function collectTopics(
  node: TopicNode,
  filter: readonly string[],
  index: number,
  found: string[],
  limit: number,
): void {
  if (found.length >= limit) {
    return;
  }

  if (index === filter.length) {
    pushTopic(node, found);

    return;
  }

  const level = filter[index] ?? '';

  if (level === MULTI) {
    // `a/#` matches `a` too; at the root, `#` leaves out the `$` topics.
    if (index > 0) {
      pushTopic(node, found);
    }

    for (const [name, child] of node.children) {
      if (index > 0 || !isReserved(name)) {
        collectSubtree(child, found, limit);
      }
    }

    return;
  }

  if (level === SINGLE) {
    for (const [name, child] of node.children) {
      if (index > 0 || !isReserved(name)) {
        collectTopics(child, filter, index + 1, found, limit);
      }
    }

    return;
  }

  const child = node.children.get(level);

  if (child !== undefined) {
    collectTopics(child, filter, index + 1, found, limit);
  }
}

function collectSubtree(node: TopicNode, found: string[], limit: number): void {
  if (found.length >= limit) {
    return;
  }

  pushTopic(node, found);

  for (const child of node.children.values()) {
    if (found.length >= limit) {
      return;
    }

    collectSubtree(child, found, limit);
  }
}

function pushTopic(node: TopicNode, found: string[]): void {
  if (node.topic !== undefined) {
    found.push(node.topic);
  }
}
