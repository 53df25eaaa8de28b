import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Compiling the agent and its workspace dependencies takes ~15 s on a busy machine. */
export const BUILD_TIMEOUT_MS = 120_000;

async function newestMtime(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const times = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => (await stat(join(entry.parentPath, entry.name))).mtimeMs),
  );

  return Math.max(0, ...times);
}

async function builtAt(file: string): Promise<number> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}

// Outside the repository, one per checkout.
const LOCK = join(
  tmpdir(),
  `beckon-agent-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`,
);
const LOCK_POLL_MS = 200;

/**
 * Child processes load the compiled agent (dist/). Rebuilds it (and @beckon/shared, which it
 * loads from dist/ too) when the sources are newer, so a test never runs stale code. Test files
 * run in parallel workers; a lock folder (mkdir is atomic) keeps two builds from writing dist/
 * at once.
 */
export async function ensureAgentBuilt(): Promise<void> {
  const deadline = Date.now() + BUILD_TIMEOUT_MS;

  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) {
        throw error;
      }

      await sleep(LOCK_POLL_MS);
    }
  }

  try {
    await buildIfStale();
  } finally {
    await rmdir(LOCK);
  }
}

async function buildIfStale(): Promise<void> {
  const sources = Math.max(
    await newestMtime(join(ROOT, 'agent/src')),
    await newestMtime(join(ROOT, 'shared/src')),
  );
  const built = Math.min(
    await builtAt(join(ROOT, 'agent/dist/index.js')),
    await builtAt(join(ROOT, 'shared/dist/index.js')),
  );

  if (built >= sources) {
    return;
  }

  await run('pnpm', ['--filter', '@beckon/agent...', 'build'], {
    cwd: ROOT,
    timeout: BUILD_TIMEOUT_MS,
  });
}

export const AGENT_DIST = join(ROOT, 'agent/dist/index.js');
export const NOTIFY_SOCKET_HELPER = join(ROOT, 'agent/test/fixtures/notify-socket.py');
export const AGENT_CLI = join(ROOT, 'agent/dist/cli.js');
