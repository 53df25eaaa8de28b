import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { execa, type ResultPromise } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// `pnpm start` as a user runs it: the built CLI as a child process, then the exact line it
// prints, then Ctrl-C. Needs `pnpm build` first, as `pnpm test` does.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOCAL_CLI = join(ROOT, 'local/dist/cli.js');
const READY_TIMEOUT_MS = 60_000;
const RUN_OPTIONS = { cwd: ROOT, reject: false } as const;

let dir: string;
let running: ResultPromise<typeof RUN_OPTIONS> | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'beckon-local-'));
});

afterEach(async () => {
  running?.kill('SIGKILL');
  await running?.catch(() => undefined);
  running = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(extra: string[] = []): Promise<string> {
  const child = execa(
    'node',
    [
      LOCAL_CLI,
      '--dir',
      join(dir, 'state'),
      '--mqtt-port',
      '0',
      '--admin-port',
      '0',
      '--public-port',
      '0',
      '--broker-check-port',
      '0',
      ...extra,
    ],
    RUN_OPTIONS,
  );
  running = child;

  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`not ready: ${output}`)), READY_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.includes(' send local-agent '));

      if (line !== undefined && output.includes('Ctrl-C')) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    void child.then((result) => {
      clearTimeout(timer);
      reject(new Error(`exited early with ${result.exitCode}: ${output}${result.stderr}`));
    });
  });
}

// The printed line is `VAR=value ... node client/dist/cli.js send ...`; run it without a shell.
function runPrinted(line: string, extraArgs: string[] = []) {
  const words = line.split(' ');
  const env = Object.fromEntries(
    words.filter((word) => /^BECKON_[A-Z_]+=/.test(word)).map((word) => word.split('=', 2)),
  ) as Record<string, string>;
  const command = words.filter((word) => !/^BECKON_[A-Z_]+=/.test(word));

  return execa(command[0] ?? 'node', [...command.slice(1), ...extraArgs], {
    cwd: ROOT,
    env,
    reject: false,
    timeout: 60_000,
  });
}

describe('the one-command local system', () => {
  it('prints a beckon send line that makes the agent run an action, and stops on Ctrl-C', async () => {
    const line = await start();

    const sent = await runPrinted(line);

    expect(sent.exitCode).toBe(0);
    expect(sent.stdout).toContain('hello world');

    running?.kill('SIGINT');
    const stopped = await running;
    expect(stopped?.exitCode).toBe(0);
    expect(stopped?.stdout).toContain('stopped');
  });

  it('uses an external broker when given one', async () => {
    const mosquitto: RunningMosquitto = await startMosquitto();

    try {
      const line = await start(['--broker', mosquitto.url]);
      expect(line).toContain(mosquitto.url);

      const sent = await runPrinted(line, ['--json']);

      expect(sent.exitCode).toBe(0);
      expect(JSON.parse(sent.stdout)).toMatchObject({ result: { outcome: 'succeeded' } });
    } finally {
      running?.kill('SIGINT');
      await running;
      await mosquitto.dispose();
    }
  });

  it('refuses a bad flag with exit 2 and says which', async () => {
    const result = await execa('node', [LOCAL_CLI, '--mqtt-port', 'many'], { reject: false });

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--mqtt-port');
  });
});
