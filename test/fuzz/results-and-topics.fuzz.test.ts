import { isTopicFilter, topicMatches } from '@beckon/auth-service';
import {
  ISSUE_CODES,
  parseMessage,
  parseProgress,
  parseResult,
  parseStatus,
  type ParseResult,
} from '@beckon/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';

// What the central client parses (results, progress, status: shared-contract covers commands)
// and the auth-service's topic matcher (every ACL decision goes through it), checked against a
// reference written from the MQTT 3.1.1 specification (section 4.7). The embedded broker's own
// matcher is not exported by @beckon/local, so it is not part of this comparison.

const options = { numRuns: FUZZ_RUNS };

function expectCoded(result: ParseResult<unknown>): void {
  if (result.ok) {
    return;
  }

  expect(result.issues.length).toBeGreaterThan(0);

  for (const issue of result.issues) {
    expect(ISSUE_CODES).toContain(issue.code);
    expect(issue.message.length).toBeGreaterThan(0);
  }
}

const result = {
  kind: 'result',
  commandId: 'cmd-0001-abcdef',
  agentId: 'web-01',
  action: 'restart-service',
  issuer: 'deployer',
  outcome: 'failed',
  exitCode: 1,
  signal: null,
  output: { stdout: 'ok\n', stderr: 'no\n', truncated: false },
  timings: {
    receivedAt: '2026-12-03T10:00:00.010Z',
    startedAt: '2026-12-03T10:00:00.020Z',
    finishedAt: '2026-12-03T10:00:01.020Z',
    durationMs: 1_000,
  },
  error: { code: 'non_zero_exit', message: 'exited with 1' },
};

const progress = {
  kind: 'progress',
  commandId: 'cmd-0001-abcdef',
  agentId: 'web-01',
  seq: 0,
  stream: 'stdout',
  data: 'line\n',
  at: '2026-12-03T10:00:00.500Z',
};

const status = {
  kind: 'status',
  agentId: 'web-01',
  state: 'offline',
  version: '0.1.0',
  startedAt: '2026-12-03T09:00:00.000Z',
  at: '2026-12-03T09:00:00.100Z',
  reason: 'SIGTERM received',
  host: { hostname: 'web-01', platform: 'linux', arch: 'x64', release: '6.1.0', node: 'v20.19.0' },
  catalogue: [
    {
      name: 'restart-service',
      description: 'Restarts one allowed unit.',
      args: { unit: { type: 'string', enum: ['nginx'] }, retries: { type: 'integer', min: 0 } },
    },
  ],
};

/** Every field path of an object, nested ones too, so a change can land anywhere. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') {
    return [prefix];
  }

  return [
    prefix,
    ...Object.entries(value).flatMap(([key, child]) => paths(child, [...prefix, key])),
  ];
}

function replaced(base: object, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) {
    return value;
  }

  const [head = '', ...rest] = path;
  const copy: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  const child = copy[head];
  copy[head] = replaced(typeof child === 'object' && child !== null ? child : {}, rest, value);

  return copy;
}

describe('messages the client parses, under one change anywhere', () => {
  const cases = [
    { name: 'result', base: result, parse: parseResult },
    { name: 'progress', base: progress, parse: parseProgress },
    { name: 'status', base: status, parse: parseStatus },
  ];

  it.each(cases)(
    'a $name stays valid only if the change is itself valid, else a coded refusal',
    ({ base, parse }) => {
      expect(parse(JSON.stringify(base)).ok).toBe(true);

      fc.assert(
        fc.property(
          fc.constantFrom(...paths(base)),
          fc.oneof(
            fc.jsonValue({ maxDepth: 2 }),
            fc.string({ maxLength: 70_000 }).filter((s) => s.length > 65_536 || s.length < 50),
          ),
          (path, value) => {
            const text = JSON.stringify(replaced(base, path, value));
            const parsed = parse(text);
            expectCoded(parsed);
            // Whichever kind it now claims, the generic parser agrees or refuses with codes.
            expectCoded(parseMessage(text));

            if (parsed.ok) {
              expect(parsed.value).toEqual(JSON.parse(text));
            }
          },
        ),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

const LEVELS = ['a', 'b', '', '$SYS', '$x', 'beckon', 'v1', 'é', ' '];
const topicName = fc
  .array(fc.constantFrom(...LEVELS), { minLength: 1, maxLength: 5 })
  .map((l) => l.join('/'));
const topicFilter = fc
  .tuple(
    fc.array(fc.constantFrom(...LEVELS, '+', '+'), { minLength: 0, maxLength: 5 }),
    fc.boolean(),
  )
  .map(([levels, multi]) => (multi ? [...levels, '#'] : levels).join('/'))
  .filter((filter) => filter.length > 0);

/** MQTT 3.1.1 §4.7: level by level; `#` matches the parent and everything below. */
function reference(filter: string[], topic: string[], first = true): boolean {
  const [level, ...rest] = filter;

  if (level === undefined) {
    return topic.length === 0;
  }

  // §4.7.2: a filter starting with a wildcard does not match a topic starting with `$`.
  if (first && (level === '+' || level === '#') && (topic[0]?.startsWith('$') ?? false)) {
    return false;
  }

  if (level === '#') {
    return true;
  }

  const [head, ...tail] = topic;

  if (head === undefined) {
    return false;
  }

  return (level === '+' || level === head) && reference(rest, tail, false);
}

describe('topic matching under arbitrary filters and topics', () => {
  it(
    'agrees with the specification',
    () => {
      fc.assert(
        fc.property(topicFilter, topicName, (filter, topic) => {
          expect(isTopicFilter(filter)).toBe(true);
          const expected = reference(filter.split('/'), topic.split('/'));

          expect(topicMatches(filter, topic)).toBe(expected);
        }),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
