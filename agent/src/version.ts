import { readFileSync } from 'node:fs';

// src/ and dist/ both sit one level below the package root, so the same relative URL works
// under vitest (sources) and at run time (compiled).
const PACKAGE_JSON = new URL('../package.json', import.meta.url);

let cached: string | undefined;

/** The agent's version, from its package.json. */
export function agentVersion(): string {
  if (cached === undefined) {
    const parsed = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: unknown };
    cached = typeof parsed.version === 'string' ? parsed.version : '0.0.0';
  }

  return cached;
}
