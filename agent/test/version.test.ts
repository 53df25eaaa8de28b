import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentVersion } from '../src/version.js';

describe('agentVersion', () => {
  it('matches the version in package.json (bump both together)', () => {
    const manifest = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string };

    expect(agentVersion()).toBe(manifest.version);
  });
});
