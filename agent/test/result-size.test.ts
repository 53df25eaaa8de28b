import { MAX_MESSAGE_BYTES, MAX_OUTPUT_LENGTH, Result } from '@beckon/shared';
import { describe, expect, it } from 'vitest';
import { fitOutput } from '../src/pipeline/fit-output.js';
import { runResult } from '../src/pipeline/results.js';

const NUL_FILLED = '\u0000'.repeat(MAX_OUTPUT_LENGTH);

function resultWith(stdout: string, stderr: string): Result {
  return runResult(
    {
      commandId: 'cmd-0001',
      agentId: 'web-01',
      action: 'dump',
      issuer: 'ops',
      receivedAt: new Date(),
    },
    {
      outcome: 'succeeded',
      exitCode: 0,
      signal: null,
      output: { stdout, stderr, truncated: false },
      startedAt: new Date(),
      finishedAt: new Date(),
    },
  );
}

describe('result size (regression: output of control characters made results undeliverable)', () => {
  it('keeps a result with both streams full of NUL bytes under the message limit', () => {
    const result = resultWith(NUL_FILLED, NUL_FILLED);

    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(result.output.truncated).toBe(true);
    expect(result.output.stdout.length).toBeGreaterThan(0);
    expect(result.output.stderr.length).toBeGreaterThan(0);
    expect(Result.safeParse(result).success).toBe(true);
  });

  it('leaves output that already fits untouched', () => {
    const output = {
      stdout: 'x'.repeat(MAX_OUTPUT_LENGTH),
      stderr: 'é'.repeat(MAX_OUTPUT_LENGTH),
      truncated: false,
    };

    expect(fitOutput(output)).toBe(output);
  });

  it('gives a quiet stream what it needs and the rest to the loud one', () => {
    const budget = 100_000;
    const fitted = fitOutput({ stdout: NUL_FILLED, stderr: 'warning\n', truncated: false }, budget);
    const used = Buffer.byteLength(JSON.stringify(fitted.stdout) + JSON.stringify(fitted.stderr));

    expect(fitted.stderr).toBe('warning\n');
    expect(used).toBeLessThanOrEqual(budget);
    expect(used).toBeGreaterThan(budget - 6);
    expect(fitted.truncated).toBe(true);
  });

  it('never splits a surrogate pair when it cuts', () => {
    const emoji = '\u0000😀'.repeat(MAX_OUTPUT_LENGTH / 4);
    const fitted = fitOutput({ stdout: emoji, stderr: emoji, truncated: false }, 1_000);

    for (const text of [fitted.stdout, fitted.stderr]) {
      expect(text).not.toMatch(/\p{Cs}/u);
      expect(Buffer.byteLength(JSON.stringify(text))).toBeLessThanOrEqual(1_000);
    }
  });
});
