import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionRunner, type ActionRunner } from '../src/index.js';
import type { ActionConfig } from '../src/config/schema.js';
import {
  action,
  makeTempDir,
  matching,
  parseRecorded,
  request,
  writeArgvRecorder,
  writeScript,
} from './fixtures/actions.js';

// Hostile argument values must reach the program as exactly one argv element each, byte for
// byte, and never through a shell. Each value that would do something in a shell targets a
// marker file; none may ever exist.

let dir: { path: string; remove: () => Promise<void> };
let runner: ActionRunner;
let recordAfterDashes: ActionConfig;
let recordAnywhere: ActionConfig;
let shellScript: ActionConfig;
let marker: string;

beforeAll(async () => {
  dir = await makeTempDir('hostile');
  marker = join(dir.path, 'pwned');
  const recorder = await writeArgvRecorder(dir.path);
  // A shell script that uses its argument the careful way; the value must still arrive intact.
  const script = await writeScript(dir.path, 'echo-arg.sh', 'printf "%s" "$1"');

  recordAfterDashes = action({
    argv: [process.execPath, recorder, 'literal', '--', { arg: 'value' }],
    args: { value: { type: 'string' } },
  });
  recordAnywhere = action({
    argv: [process.execPath, recorder, { arg: 'value' }],
    args: { value: { type: 'string' } },
  });
  shellScript = action({
    argv: [script, { arg: 'value' }],
    args: { value: { type: 'string' } },
  });
  runner = createActionRunner({
    limits: { maxConcurrent: 4, maxQueued: 64, killGraceSeconds: 1 },
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await dir.remove();
});

const hostileValues = (markerPath: string) => [
  `; rm -rf / ; touch ${markerPath}`,
  `$(touch ${markerPath})`,
  `\`touch ${markerPath}\``,
  `&& touch ${markerPath}`,
  `| touch ${markerPath}`,
  `> ${markerPath}`,
  `'; touch ${markerPath}; '`,
  `"$(touch ${markerPath})"`,
  '${IFS}cat${IFS}/etc/passwd',
  '*',
  '~root',
  'a b\tc',
  'é 中文 🚀 \u202e',
  'x'.repeat(4_096),
];

describe('hostile argument values', () => {
  it('reach the program as exactly one element each, byte for byte', async () => {
    for (const value of hostileValues(marker)) {
      const { request: run } = request('record', recordAnywhere, { value });
      const outcome = await runner.run(run);

      expect(outcome.outcome, value).toBe('succeeded');
      expect(parseRecorded(outcome.output.stdout).argv).toEqual([value]);
    }

    expect(existsSync(marker)).toBe(false);
  });

  it('reach a shell script as data, never as shell code', async () => {
    for (const value of hostileValues(marker)) {
      const outcome = await runner.run(request('script', shellScript, { value }).request);

      expect(outcome.output.stdout, value).toBe(value);
    }

    expect(existsSync(marker)).toBe(false);
  });

  it('can start with a dash only after a literal "--"', async () => {
    for (const value of ['-rf', '--output=/etc/passwd', '--', '-']) {
      const refused = await runner.run(request('record', recordAnywhere, { value }).request);

      expect(refused).toMatchObject({
        outcome: 'failed',
        error: { code: 'invalid_args', message: matching(/^args\.value: .*"-"/) },
      });
      expect(refused.startedAt).toBeUndefined();

      const accepted = await runner.run(request('record', recordAfterDashes, { value }).request);

      expect(parseRecorded(accepted.output.stdout).argv).toEqual(['literal', '--', value]);
    }
  });

  it('are refused with newlines, NUL or other control characters, before anything runs', async () => {
    for (const value of ['main\nrm -rf /', 'a\u0000b', 'a\rb', '\u001b]0;title\u0007']) {
      const outcome = await runner.run(request('record', recordAnywhere, { value }).request);

      expect(outcome).toMatchObject({
        outcome: 'failed',
        exitCode: null,
        output: { stdout: '', stderr: '', truncated: false },
        error: { code: 'invalid_args' },
      });
    }
  });

  it('are refused when longer than the shared limit', async () => {
    const outcome = await runner.run(
      request('record', recordAnywhere, { value: 'x'.repeat(4_097) }).request,
    );

    expect(outcome.error).toMatchObject({ code: 'invalid_args', message: /args\.value/ });
  });
});
