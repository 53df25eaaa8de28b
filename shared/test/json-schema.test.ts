import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderJsonSchemas } from '../src/index.js';

const folder = join(import.meta.dirname, '..', 'schema');

describe('published JSON Schemas', () => {
  it('match the zod schemas (run `pnpm schemas` after changing the contract)', () => {
    const rendered = renderJsonSchemas();

    expect(readdirSync(folder).sort()).toEqual(
      Object.keys(rendered)
        .map((name) => `${name}.json`)
        .sort(),
    );

    for (const [name, text] of Object.entries(rendered)) {
      expect(readFileSync(join(folder, `${name}.json`), 'utf8'), `${name}.json is stale`).toBe(
        text,
      );
    }
  });
});
