import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, validateConfig } from '@beckon/agent';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_FUZZ_RUNS, FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';

// The agent's config is outside input (an operator's file, maybe generated, maybe edited in a
// hurry): every shape of it must end in a result, never a throw, and a refusal must name the
// file. Parsed objects go through validateConfig; text goes through the real file loader.

const SOURCE = 'fuzz.yaml';

const validConfig = {
  broker: { url: 'mqtts://broker.example.com:8883' },
  actions: {
    restart: {
      argv: ['/usr/bin/systemctl', 'restart', '--', { arg: 'unit' }],
      args: { unit: { type: 'string', enum: ['nginx', 'postgresql'] } },
    },
  },
};

function expectNamedErrors(result: ReturnType<typeof validateConfig>, source: string): void {
  if (result.ok) {
    return;
  }

  expect(result.errors.length).toBeGreaterThan(0);

  for (const error of result.errors) {
    expect(error.startsWith(`${source}: `)).toBe(true);
  }
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'beckon-fuzz-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('validateConfig under arbitrary input', () => {
  it(
    'never throws on arbitrary values and names the source in every error',
    () => {
      fc.assert(
        fc.property(fc.anything({ maxDepth: 4 }), (value) => {
          expectNamedErrors(validateConfig(value, SOURCE), SOURCE);
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'refuses or keeps a valid config with one value anywhere replaced, never throwing',
    () => {
      const paths: (readonly string[])[] = [
        ['broker'],
        ['broker', 'url'],
        ['broker', 'protocolVersion'],
        ['broker', 'keepaliveSeconds'],
        ['limits'],
        ['limits', 'maxConcurrent'],
        ['security', 'requireSignatures'],
        ['actions'],
        ['actions', 'restart'],
        ['actions', 'restart', 'argv'],
        ['actions', 'restart', 'args'],
        ['actions', 'restart', 'args', 'unit'],
        ['actions', 'restart', 'args', 'unit', 'pattern'],
        ['actions', 'restart', 'env'],
        ['actions', 'restart', 'timeoutSeconds'],
        ['actions', 'restart', 'user'],
        ['actions', '__proto__'],
        ['actions', 'ping'],
        ['logLevel'],
      ];

      fc.assert(
        fc.property(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), (path, value) => {
          const config = structuredClone(validConfig) as Record<string, unknown>;
          let node: Record<string, unknown> = config;

          for (const key of path.slice(0, -1)) {
            const child = node[key];
            node[key] = typeof child === 'object' && child !== null ? child : {};
            node = node[key] as Record<string, unknown>;
          }

          Object.defineProperty(node, path.at(-1) ?? '', {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          const result = validateConfig(config, SOURCE);
          expectNamedErrors(result, SOURCE);

          // Whatever passes is frozen and carries only absolute programs.
          if (result.ok) {
            expect(Object.isFrozen(result.config)).toBe(true);

            for (const action of Object.values(result.config.actions)) {
              const [program] = action.argv;
              expect(typeof program === 'string' && program.startsWith('/')).toBe(true);
            }
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

// YAML's own syntax, for text that gets past the tokenizer more often than random characters.
const yamlToken = fc.constantFrom(
  'broker:',
  '  url: mqtt://h',
  'actions:',
  '  a:',
  '    argv: [/bin/true]',
  '&x',
  '*x',
  '<<: *x',
  '!!binary aGk=',
  '!!timestamp 2001-12-14',
  '!!set { a }',
  '!!omap [ a: 1 ]',
  '!custom x',
  '%YAML 1.1',
  '---',
  '...',
  '? complex',
  ': value',
  '- item',
  '|',
  '>-',
  '"\\u0000"',
  "'quoted'",
  '{ a: [b, { c: d }] }',
  '#comment',
  '~',
  '0x1F',
  '.inf',
  '1e400',
  '__proto__: { polluted: true }',
);

describe('loadConfig under arbitrary text', () => {
  it(
    'never throws on arbitrary text or YAML fragments and names the file in every error',
    async () => {
      let count = 0;

      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string({ maxLength: 400 }),
            fc
              .array(fc.tuple(fc.nat(4), yamlToken), { maxLength: 30 })
              .map((lines) =>
                lines.map(([indent, token]) => `${' '.repeat(indent)}${token}`).join('\n'),
              ),
          ),
          async (text) => {
            const path = join(dir, `config-${count++}.yaml`);
            await writeFile(path, text);
            expectNamedErrors(await loadConfig(path), path);
            await rm(path);
          },
        ),
        { numRuns: FILE_FUZZ_RUNS },
      );

      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    },
    FUZZ_TIMEOUT_MS,
  );
});
