import {
  agentTopics,
  argsSchemaFor,
  ArgSpecs,
  canonicalJson,
  isPrincipalId,
  ISSUE_CODES,
  parseInbound,
  parseMessage,
  parseTopic,
  PrincipalId,
  safeParse,
  TopicError,
  type ArgSpec,
  type ParseResult,
} from '@beckon/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';

const options = { numRuns: FUZZ_RUNS };
const HOSTILE_CHARACTERS = ['+', '#', '/', '\u0000', '%', ' ', '\n'];

function expectCodedRefusal(result: ParseResult<unknown>): void {
  if (result.ok) {
    return;
  }

  expect(result.issues.length).toBeGreaterThan(0);

  for (const issue of result.issues) {
    expect(ISSUE_CODES).toContain(issue.code);
    expect(typeof issue.path).toBe('string');
    expect(issue.message.length).toBeGreaterThan(0);
  }
}

const validCommand = {
  kind: 'command',
  id: 'cmd-0001-abcdef',
  agentId: 'web-01',
  action: 'restart-service',
  args: { unit: 'nginx' },
  issuer: 'deployer',
  issuedAt: '2026-12-03T10:00:00.000Z',
  expiresAt: '2026-12-03T10:05:00.000Z',
};

const fieldNames = [...Object.keys(validCommand), 'auth', 'replyTo', 'progress', 'shell'];

describe('message parsers under arbitrary input', () => {
  it(
    'never throw on arbitrary bytes and always refuse with coded issues',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2_048 }), (bytes) => {
          expectCodedRefusal(parseMessage(bytes));
          expectCodedRefusal(parseInbound(bytes));
        }),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'never throw on arbitrary JSON values',
    () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
          const result = parseMessage(JSON.stringify(value));
          expectCodedRefusal(result);
        }),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'refuse a command with any one field replaced by a wrong value, naming that field',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...fieldNames),
          fc.jsonValue({ maxDepth: 2 }),
          (field, replacement) => {
            const mutated: Record<string, unknown> = { ...validCommand, [field]: replacement };
            const result = parseInbound(JSON.stringify(mutated));

            if (result.ok) {
              // Only a replacement that is itself valid for that field may pass.
              expect(result.value).toMatchObject(JSON.parse(JSON.stringify(mutated)) as object);
              return;
            }

            expectCodedRefusal(result);
          },
        ),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'never accept an agent id or issuer carrying a topic separator, wildcard or NUL',
    () => {
      const hostileId = fc
        .tuple(
          fc.string({ maxLength: 20 }),
          fc.constantFrom(...HOSTILE_CHARACTERS),
          fc.string({ maxLength: 20 }),
        )
        .map(([before, bad, after]) => `${before}${bad}${after}`);

      fc.assert(
        fc.property(hostileId, fc.constantFrom('agentId', 'issuer'), (id, field) => {
          const result = parseInbound(JSON.stringify({ ...validCommand, [field]: id }));

          expect(result.ok).toBe(false);
          expectCodedRefusal(result);
        }),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('topics under arbitrary input', () => {
  it(
    'parse only what they can build again, and never yield a wildcard id',
    () => {
      const topicLike = fc.oneof(
        fc.string({ maxLength: 80 }),
        fc
          .tuple(
            fc.string({ maxLength: 12 }),
            fc.constantFrom('commands', 'results', 'status', 'x'),
          )
          .map(([id, channel]) => `beckon/v1/agents/${id}/${channel}`),
      );

      fc.assert(
        fc.property(topicLike, (topic) => {
          const parsed = parseTopic(topic);

          if (parsed === undefined) {
            return;
          }

          expect(parsed.scope).toBe('agent');
          if (parsed.scope === 'agent') {
            expect(parsed.agentId).not.toMatch(/[+#/%]/);
            expect(parsed.agentId).not.toContain('\0');
            expect(agentTopics(parsed.agentId)[parsed.channel]).toBe(topic);
          }
        }),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'build topics only for safe ids',
    () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 200 }), (id) => {
          try {
            const topics = agentTopics(id);
            expect(parseTopic(topics.commands)).toEqual({
              scope: 'agent',
              agentId: id,
              channel: 'commands',
            });
          } catch (error) {
            expect(error).toBeInstanceOf(TopicError);
          }
        }),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

const argSpec: fc.Arbitrary<ArgSpec> = fc.oneof(
  fc.record(
    {
      type: fc.constant('string' as const),
      maxLength: fc.integer({ min: 1, max: 64 }),
      pattern: fc.constantFrom('[a-z]+', '[0-9]{1,3}', 'v[0-9]+\\.[0-9]+', 'a|b'),
      required: fc.boolean(),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('integer' as const),
      min: fc.integer({ min: -100, max: 0 }),
      max: fc.integer({ min: 0, max: 100 }),
      required: fc.boolean(),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    { type: fc.constant('boolean' as const), required: fc.boolean() },
    { requiredKeys: ['type'] },
  ),
);

describe('principal ids under arbitrary input', () => {
  it(
    'are accepted by isPrincipalId exactly when the PrincipalId schema accepts them',
    () => {
      const idLike = fc.oneof(
        fc.string({ maxLength: 140 }),
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,140}$/),
        fc
          .tuple(
            fc.stringMatching(/^[A-Za-z0-9._@-]{0,20}$/),
            fc.constantFrom(...HOSTILE_CHARACTERS),
          )
          .map(([id, hostile]) => `${id}${hostile}`),
        fc.anything(),
      );

      fc.assert(
        fc.property(idLike, (value) => {
          expect(isPrincipalId(value)).toBe(PrincipalId.safeParse(value).success);
        }),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it('agree at the length bounds', () => {
    for (const length of [0, 1, 127, 128, 129]) {
      const id = 'a'.repeat(length);

      expect(isPrincipalId(id)).toBe(PrincipalId.safeParse(id).success);
    }

    expect(isPrincipalId('a'.repeat(128))).toBe(true);
    expect(isPrincipalId('a'.repeat(129))).toBe(false);
  });
});

describe('argument validation under arbitrary input', () => {
  it(
    'accepts only values that satisfy their declared spec',
    () => {
      fc.assert(
        fc.property(
          fc.dictionary(fc.constantFrom('unit', 'count', 'force', 'ref'), argSpec, { maxKeys: 4 }),
          fc.dictionary(
            fc.constantFrom('unit', 'count', 'force', 'ref', 'extra'),
            fc.oneof(
              fc.string({ maxLength: 80 }),
              fc.integer(),
              fc.double(),
              fc.boolean(),
              fc.constant(null),
            ),
            { maxKeys: 5 },
          ),
          (rawSpecs, args) => {
            const specs = safeParse(ArgSpecs, rawSpecs);
            expect(specs.ok).toBe(true);
            if (!specs.ok) {
              return;
            }

            const result = safeParse(argsSchemaFor(specs.value), args);

            if (!result.ok) {
              expectCodedRefusal(result);
              return;
            }

            for (const [name, value] of Object.entries(result.value)) {
              const spec = specs.value[name];
              expect(spec).toBeDefined();
              if (spec?.type === 'string') {
                expect(typeof value).toBe('string');
                expect(String(value).length).toBeLessThanOrEqual(spec.maxLength ?? 4_096);
                if (spec.pattern !== undefined) {
                  expect(new RegExp(`^(?:${spec.pattern})$`, 'u').test(String(value))).toBe(true);
                }
              } else if (spec?.type === 'integer') {
                expect(Number.isInteger(value)).toBe(true);
                expect(value).toBeGreaterThanOrEqual(spec.min ?? Number.MIN_SAFE_INTEGER);
                expect(value).toBeLessThanOrEqual(spec.max ?? Number.MAX_SAFE_INTEGER);
              } else {
                expect(typeof value).toBe('boolean');
              }
            }

            for (const [name, spec] of Object.entries(specs.value)) {
              if (spec.required !== false) {
                expect(result.value).toHaveProperty(name);
              }
            }
          },
        ),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('canonical JSON', () => {
  it(
    'round-trips and does not depend on key order',
    () => {
      fc.assert(
        fc.property(
          fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })),
          (value) => {
            const text = canonicalJson(value);
            expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));

            const reversed = Object.fromEntries(Object.entries(value).reverse());
            expect(canonicalJson(reversed)).toBe(text);
          },
        ),
        options,
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
