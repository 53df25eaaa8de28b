import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './paths.js';

const run = promisify(execFile);
const TSC = join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
/** In dependency order: the CLIs load @beckon/shared from its dist/ too. */
const PACKAGES = ['shared', 'auth-service', 'agent'];

async function newestSource(folder: string): Promise<number> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  const times = await Promise.all(
    entries
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map(async (entry) => (await stat(join(entry.parentPath, entry.name))).mtimeMs),
  );

  return Math.max(0, ...times);
}

async function oldestBuild(folder: string): Promise<number> {
  try {
    return (await stat(join(folder, 'dist', 'index.js'))).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * The suite spawns the built CLIs (`beckon-auth serve`, `beckon-agent run`), which run from
 * dist/: rebuild any of their packages whose sources are newer, so a run never tests stale
 * code. `pnpm test` builds first, so there this finds nothing to do.
 */
export default async function buildStaleCommandLines(): Promise<void> {
  for (const name of PACKAGES) {
    const folder = join(REPO_ROOT, name);

    if ((await oldestBuild(folder)) < (await newestSource(join(folder, 'src')))) {
      await run(TSC, ['-p', join(folder, 'tsconfig.build.json')]);
    }
  }
}
