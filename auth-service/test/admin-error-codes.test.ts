import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { API_ERROR_STATUS } from '../src/http/api-error.js';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'auth-service.md');

describe('error codes', () => {
  it('are documented with the same status they are answered with', () => {
    const rows = new Map(
      [...readFileSync(DOCS, 'utf8').matchAll(/^\| `([a-z_]+)` +\| (\d{3}) +\|/gm)].map((match) => [
        match[1],
        Number(match[2]),
      ]),
    );

    expect(Object.fromEntries(rows)).toEqual(API_ERROR_STATUS);
  });
});
