import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SERVICE_NODE_FLAGS } from '../src/runtime-flags.js';

const run = promisify(execFile);
const DOCKERFILE = new URL('../../deploy/auth-service/Dockerfile', import.meta.url);
const CLI_IN_IMAGE = '/app/dist/cli.js';

describe('the Node flags the auth-service runs with', () => {
  it('are the ones the image passes, before the CLI, in exec form', async () => {
    const lines = (await readFile(DOCKERFILE, 'utf8')).split('\n');
    const entrypoints = lines.filter((line) => line.startsWith('ENTRYPOINT '));

    expect(entrypoints).toHaveLength(1);
    expect(JSON.parse(entrypoints[0]?.slice('ENTRYPOINT '.length) ?? '')).toEqual([
      'node',
      ...SERVICE_NODE_FLAGS,
      CLI_IN_IMAGE,
    ]);
  });

  // Node refuses a flag it does not know ("bad option", exit 9), so a misspelt or retired V8
  // flag would stop the container from starting at all.
  it('are accepted by this Node', async () => {
    const { stdout } = await run(process.execPath, [
      ...SERVICE_NODE_FLAGS,
      '-e',
      'process.stdout.write("started")',
    ]);

    expect(stdout).toBe('started');
  });
});
