import { readFileSync } from 'node:fs';

// One level above both src/ and dist/, so this works from sources and from the build.
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version?: unknown;
};

/** This package's version, as published in package.json. */
export const CLIENT_VERSION = typeof manifest.version === 'string' ? manifest.version : '0.0.0';
