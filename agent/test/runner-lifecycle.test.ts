import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createActionRunner,
  DEFAULT_ACTION_PATH,
  ShutdownReason,
  type ActionRunner,
  type RunOutcome,
} from '../src/index.js';
import {
  action,
  captureLogger,
  isAlive,
  makeTempDir,
  parseRecorded,
  request,
  writeArgvRecorder,
} from './fixtures/actions.js';

const KILL_GRACE_MS = 300;
const SECRET = 'agent-secret-that-actions-must-not-see';

let dir: { path: string; remove: () => Promise<void> };
let recorder: string;
let runner: ActionRunner;
const log = captureLogger();
/** Every pid a test program reported, so a failing test still cleans up after itself. */
const reported = new Set<number>();

beforeAll(async () => {
  dir = await makeTempDir('lifecycle');
  recorder = await writeArgvRecorder(dir.path);
  runner = createActionRunner({
    limits: { maxConcurrent: 8, maxQueued: 8, killGraceSeconds: 60 },
    logger: log.logger,
    killGraceMs: KILL_GRACE_MS,
  });
});

afterAll(async () => {
  for (const pid of [...reported].filter(isAlive)) {
    process.kill(pid, 'SIGKILL');
  }

  await dir.remove();
});

/** Pids the program printed on its first line of stdout, read through progress. */
function firstLinePids(onPids: (pids: number[]) => void) {
  let seen = '';
  let done = false;

  return (chunk: { stream: 'stdout' | 'stderr'; data: string }) => {
    seen += chunk.stream === 'stdout' ? chunk.data : '';

    if (!done && seen.includes('\n')) {
      done = true;
      const pids = (seen.split('\n')[0] ?? '').split(' ').map(Number);
      pids.forEach((pid) => reported.add(pid));
      onPids(pids);
    }
  };
}

/** Runs a shell program that prints the pids it started, then stops it by `stop`. */
async function runAndStop(
  script: string,
  stop: (controller: AbortController) => void,
): Promise<{ outcome: RunOutcome; pids: number[] }> {
  let pids: number[] = [];
  const config = action({ argv: ['/bin/sh', '-c', script], timeoutSeconds: 600 });
  const { request: run, controller } = request(
    'stubborn',
    config,
    {},
    {
      onProgress: firstLinePids((found) => {
        pids = found;
        stop(controller);
      }),
    },
  );
  const outcome = await runner.run(run);

  return { outcome, pids };
}

describe('a run that ends by itself', () => {
  it('succeeds with exit code 0 and its timings', async () => {
    const outcome = await runner.run(
      request('hello', action({ argv: ['/bin/sh', '-c', 'echo hello; echo oops >&2'] })).request,
    );

    expect(outcome).toMatchObject({
      outcome: 'succeeded',
      exitCode: 0,
      signal: null,
      output: { stdout: 'hello\n', stderr: 'oops\n', truncated: false },
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.startedAt!.getTime()).toBeLessThanOrEqual(outcome.finishedAt.getTime());
  });

  it('fails with non_zero_exit and keeps the exit code', async () => {
    const outcome = await runner.run(
      request('fail', action({ argv: ['/bin/sh', '-c', 'echo broken >&2; exit 3'] })).request,
    );

    expect(outcome).toMatchObject({
      outcome: 'failed',
      exitCode: 3,
      output: { stderr: 'broken\n' },
      error: { code: 'non_zero_exit', message: 'the program exited with 3' },
    });
  });

  it('fails with non_zero_exit and the signal when a signal ends it', async () => {
    const outcome = await runner.run(
      request('crash', action({ argv: ['/bin/sh', '-c', 'kill -SEGV $$'] })).request,
    );

    expect(outcome).toMatchObject({
      outcome: 'failed',
      exitCode: null,
      signal: 'SIGSEGV',
      error: { code: 'non_zero_exit', message: 'the program was ended by SIGSEGV' },
    });
  });

  it('takes nothing from the agent environment, only what the action declares', async () => {
    process.env['BECKON_TEST_SECRET'] = SECRET;

    try {
      const config = action({
        argv: [process.execPath, recorder],
        env: { LANG: 'C.UTF-8' },
      });
      const outcome = await runner.run(request('env', config).request);

      expect(parseRecorded(outcome.output.stdout).env).toEqual({
        LANG: 'C.UTF-8',
        PATH: DEFAULT_ACTION_PATH,
      });
    } finally {
      delete process.env['BECKON_TEST_SECRET'];
    }
  });

  it('runs in the declared working directory', async () => {
    const outcome = await runner.run(
      request('pwd', action({ argv: ['/bin/pwd'], cwd: dir.path })).request,
    );

    expect(outcome.output.stdout).toBe(`${dir.path}\n`);
  });

  it('ends the processes it left behind in its group', async () => {
    const outcome = await runner.run(
      request('leaves', action({ argv: ['/bin/sh', '-c', 'sleep 1000 & echo $!'] })).request,
    );
    const leftover = Number(outcome.output.stdout.trim());
    reported.add(leftover);

    expect(outcome.outcome).toBe('succeeded');
    expect(leftover).toBeGreaterThan(0);
    expect(isAlive(leftover)).toBe(false);
  });
});

describe('spawn failures', () => {
  it('reports a missing program as spawn_failed', async () => {
    const missing = join(dir.path, 'no-such-program');
    const outcome = await runner.run(request('missing', action({ argv: [missing] })).request);

    expect(outcome).toMatchObject({
      outcome: 'failed',
      exitCode: null,
      error: { code: 'spawn_failed', message: `cannot start ${missing} in /: ENOENT` },
    });
    expect(outcome.startedAt).toBeInstanceOf(Date);
  });

  it('reports a program that is not executable as spawn_failed', async () => {
    const plain = join(dir.path, 'not-executable');
    await writeFile(plain, 'echo never\n');
    await chmod(plain, 0o644);
    const outcome = await runner.run(request('plain', action({ argv: [plain] })).request);

    expect(outcome.error).toMatchObject({ code: 'spawn_failed', message: /EACCES$/ });
  });

  it('reports a missing working directory as spawn_failed', async () => {
    const config = action({ argv: ['/bin/true'], cwd: join(dir.path, 'gone') });
    const outcome = await runner.run(request('cwd', config).request);

    expect(outcome.error?.code).toBe('spawn_failed');
  });

  it('refuses a program that is not a literal absolute path, even if the loader was skipped', async () => {
    for (const argv of [['sh', '-c', 'true'], [{ arg: 'program' }]]) {
      const config = action({
        argv,
        args: argv.length === 1 ? { program: { type: 'string' } } : {},
      });
      const outcome = await runner.run(
        request('relative', config, { program: '/bin/true' }).request,
      );

      expect(outcome).toMatchObject({ outcome: 'failed', error: { code: 'internal' } });
      expect(outcome.startedAt).toBeUndefined();
    }
  });
});

describe('stopping a run', () => {
  it('times out and leaves no process of its group behind', async () => {
    const config = action({
      argv: ['/bin/sh', '-c', 'sleep 1000 & echo $$ $!; sleep 1000'],
      timeoutSeconds: 2,
    });
    let pids: number[] = [];
    const { request: run } = request(
      'slow',
      config,
      {},
      {
        onProgress: firstLinePids((found) => (pids = found)),
      },
    );
    const outcome = await runner.run(run);

    expect(outcome).toMatchObject({
      outcome: 'timed-out',
      exitCode: null,
      signal: 'SIGTERM',
      error: { code: 'timed_out', message: 'ran longer than 2 s' },
    });
    expect(pids).toHaveLength(2);
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('kills the group with SIGKILL when it ignores SIGTERM past the grace period', async () => {
    // Stopped only once it has printed, so its traps are certainly in place.
    const { outcome, pids } = await runAndStop(
      `trap '' TERM; sh -c "trap '' TERM; sleep 1000" & echo $$ $!; while :; do sleep 1; done`,
      (controller) => controller.abort(),
    );

    expect(outcome).toMatchObject({ outcome: 'cancelled', signal: 'SIGKILL' });
    expect(pids.filter(isAlive)).toEqual([]);
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ msg: 'stopping action', reason: 'cancel' }),
    );
  });

  it('is cancelled through its abort signal', async () => {
    const { outcome, pids } = await runAndStop('sleep 1000 & echo $$ $!; wait', (controller) =>
      controller.abort(),
    );

    expect(outcome).toMatchObject({
      outcome: 'cancelled',
      signal: 'SIGTERM',
      error: { code: 'cancelled' },
    });
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('is interrupted when aborted for shutdown', async () => {
    const { outcome, pids } = await runAndStop('sleep 1000 & echo $$ $!; wait', (controller) =>
      controller.abort(new ShutdownReason()),
    );

    expect(outcome).toMatchObject({ outcome: 'interrupted', error: { code: 'interrupted' } });
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('does not start at all when already aborted', async () => {
    const { request: run, controller } = request('never', action({ argv: ['/bin/true'] }));
    controller.abort();
    const outcome = await runner.run(run);

    expect(outcome).toMatchObject({ outcome: 'cancelled', error: { code: 'cancelled' } });
    expect(outcome.startedAt).toBeUndefined();
  });

  it('returns without waiting on a process that escaped the group but holds its pipes', async () => {
    // The program waits until its child has left the group (the child writes its pid only
    // after setsid), so the agent's clean-up of leftovers cannot catch it first.
    const pidFile = join(dir.path, 'escaped.pid');
    const script = [
      `setsid sh -c 'echo $$ > "$0"; exec sleep 1000' ${pidFile} &`,
      `while [ ! -s ${pidFile} ]; do sleep 0.01; done`,
      `cat ${pidFile}`,
    ].join('\n');
    const outcome = await runner.run(
      request('escape', action({ argv: ['/bin/sh', '-c', script] })).request,
    );
    reported.add(Number(outcome.output.stdout.trim()));

    expect(outcome.outcome).toBe('succeeded');
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ msg: 'action pipes held open after exit' }),
    );
  });
});

describe('logging', () => {
  it('never writes argument values', async () => {
    const config = action({
      argv: ['/bin/echo', { arg: 'token' }],
      args: { token: { type: 'string', secret: true } },
    });
    await runner.run(request('secret', config, { token: 'hunter2-value' }).request);

    expect(JSON.stringify(log.lines())).not.toContain('hunter2-value');
  });
});
