import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const CLIENT_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Builds the client and the contract it imports, so the CLI runs from dist/ as installed. */
export function buildClient(): Promise<void> {
  const filters = ['--filter', '@beckon/shared', '--filter', '@beckon/client'];

  return new Promise((resolve, reject) => {
    execFile('pnpm', [...filters, 'build'], { cwd: CLIENT_DIR }, (error) => {
      if (error === null) {
        resolve();
      } else {
        reject(new Error('building @beckon/client failed', { cause: error }));
      }
    });
  });
}

/** Runs `beckon` as a child process with exactly this environment (plus PATH). */
export function runCli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env } },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error('could not run the CLI', { cause: error }));
          return;
        }

        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

/** Starts `beckon` and leaves it running (watch); the caller stops it. */
export function spawnCli(args: readonly string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [CLI_PATH, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
