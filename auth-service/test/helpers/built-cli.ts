import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED_DIR = join(PACKAGE_DIR, '..', 'shared');
const TSC = join(PACKAGE_DIR, 'node_modules', '.bin', 'tsc');

export const CLI_PATH = join(PACKAGE_DIR, 'dist', 'cli.js');

function newestSource(folder: string): number {
  let newest = 0;

  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }

  return newest;
}

function builtAt(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * The CLI runs from dist/ (workspace packages resolve to their builds at run time), so build
 * shared and this package first, unless their builds are newer than every source file.
 */
export async function ensureBuilt(): Promise<void> {
  const sharedBuilt = builtAt(join(SHARED_DIR, 'dist', 'index.js'));

  if (sharedBuilt < newestSource(join(SHARED_DIR, 'src'))) {
    await run(TSC, ['-p', join(SHARED_DIR, 'tsconfig.build.json')]);
  }

  if (builtAt(CLI_PATH) < newestSource(join(PACKAGE_DIR, 'src'))) {
    await run(TSC, ['-p', join(PACKAGE_DIR, 'tsconfig.build.json')]);
  }
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `beckon-auth <args>` as a child process and collects its output. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_PATH, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });

    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };

    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

/** Starts `beckon-auth <args>` in the background, for `serve`. */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI_PATH, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
