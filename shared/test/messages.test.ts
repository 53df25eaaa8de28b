import { describe, expect, it } from 'vitest';
import {
  MAX_MESSAGE_BYTES,
  MAX_OUTPUT_LENGTH,
  parseInbound,
  parseMessage,
  parseResult,
  parseStatus,
  salvageCommandId,
  type Issue,
} from '../src/index.js';
import { validCommand, validResult, validStatus } from './fixtures.js';

function issuesOf(payload: unknown): readonly Issue[] {
  const parsed = parseMessage(JSON.stringify(payload));

  if (parsed.ok) {
    throw new Error('expected the message to be refused');
  }

  return parsed.issues;
}

function expectIssue(payload: unknown, code: Issue['code'], path: string): void {
  expect(issuesOf(payload)).toContainEqual(expect.objectContaining({ code, path }));
}

describe('valid messages', () => {
  it('parses a command, a result, a status, progress and a cancel', () => {
    const progress = {
      kind: 'progress',
      commandId: 'cmd-0001-abcdef',
      agentId: 'web-01',
      seq: 0,
      stream: 'stdout',
      data: 'line\n',
      at: '2026-12-03T10:00:00.500+01:00',
    };
    const cancel = {
      kind: 'cancel',
      id: 'cancel-0001',
      agentId: 'web-01',
      commandId: 'cmd-0001-abcdef',
      issuer: 'deployer',
      issuedAt: '2026-12-03T10:00:00Z',
      expiresAt: '2026-12-03T10:01:00Z',
    };

    for (const message of [validCommand(), validResult(), validStatus(), progress, cancel]) {
      const parsed = parseMessage(JSON.stringify(message));
      expect(parsed).toEqual({ ok: true, value: message });
    }
  });

  it('accepts bytes as they come off the socket', () => {
    const parsed = parseInbound(Buffer.from(JSON.stringify(validCommand())));
    expect(parsed.ok).toBe(true);
  });

  it('parses a result for a command too malformed to have an id', () => {
    const parsed = parseResult(
      JSON.stringify({
        ...validResult(),
        commandId: null,
        outcome: 'rejected',
        exitCode: null,
        error: { code: 'malformed', message: 'payload is not valid JSON' },
      }),
    );
    expect(parsed.ok).toBe(true);
  });
});

describe('refused input, each with a coded issue naming the field', () => {
  it('refuses a payload that is not JSON or not UTF-8', () => {
    expect(parseMessage('{"kind":')).toEqual({
      ok: false,
      issues: [{ code: 'not_json', path: '', message: 'is not valid JSON' }],
    });
    const parsed = parseMessage(new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(parsed.ok || parsed.issues[0]?.code).toBe('not_json');
  });

  it('refuses a payload over the size limit before parsing it', () => {
    const parsed = parseMessage('x'.repeat(MAX_MESSAGE_BYTES + 1));
    expect(parsed.ok || parsed.issues[0]?.code).toBe('too_large');
  });

  it('refuses an unknown or missing kind', () => {
    expectIssue({ ...validCommand(), kind: 'exec' }, 'wrong_kind', 'kind');
    const { kind: _kind, ...withoutKind } = validCommand();
    expectIssue(withoutKind, 'wrong_kind', 'kind');
  });

  it('refuses a result sent where a command is expected', () => {
    const parsed = parseInbound(JSON.stringify(validResult()));
    expect(parsed.ok || parsed.issues[0]?.code).toBe('wrong_kind');
  });

  it('names a missing field', () => {
    const { action: _action, ...withoutAction } = validCommand();
    expectIssue(withoutAction, 'missing_field', 'action');
  });

  it('names a field of the wrong type', () => {
    expectIssue({ ...validCommand(), args: 'unit=nginx' }, 'invalid_type', 'args');
  });

  it('refuses unknown fields rather than ignoring them', () => {
    expectIssue({ ...validCommand(), shell: 'sh -c' }, 'unknown_field', '');
  });

  it.each(['web+01', 'web#', 'site/web-01', 'web\u000001', '', 'a'.repeat(129)])(
    'refuses the agent id %j',
    (agentId) => {
      const issues = issuesOf({ ...validCommand(), agentId });
      expect(issues.map((issue) => issue.path)).toContain('agentId');
      expect(issues[0]?.code).toMatch(/invalid_format|too_small|too_big/);
    },
  );

  it('refuses output over the limit', () => {
    const result = validResult();
    result.output.stdout = 'x'.repeat(MAX_OUTPUT_LENGTH + 1);
    expectIssue(result, 'too_big', 'output.stdout');
  });

  it('refuses float and object argument values', () => {
    expectIssue({ ...validCommand(), args: { retries: 1.5 } }, 'invalid_value', 'args.retries');
    expectIssue({ ...validCommand(), args: { unit: { $gt: '' } } }, 'invalid_value', 'args.unit');
  });

  it('refuses an action argument of an unknown type in a catalogue', () => {
    const status = validStatus();
    const descriptor = status.catalogue[1]!;
    const payload = {
      ...status,
      catalogue: [{ ...descriptor, args: { unit: { type: 'path' } } }],
    };
    expectIssue(payload, 'wrong_kind', 'catalogue.0.args.unit.type');
  });

  it('refuses an argument pattern that is not a regular expression', () => {
    const status = validStatus();
    const descriptor = status.catalogue[1]!;
    const payload = {
      ...status,
      catalogue: [{ ...descriptor, args: { unit: { type: 'string', pattern: '([a-z' } } }],
    };
    const parsed = parseStatus(JSON.stringify(payload));
    expect(parsed.ok || parsed.issues[0]?.path).toBe('catalogue.0.args.unit.pattern');
  });

  it.each([
    ['not a date at all', 'tomorrow'],
    ['a day that does not exist', '2026-02-30T10:00:00Z'],
    ['a timestamp without an offset', '2026-12-03T10:00:00'],
    ['an hour that does not exist', '2026-12-03T25:00:00Z'],
  ])('refuses %s as a timestamp', (_label, issuedAt) => {
    const issues = issuesOf({ ...validCommand(), issuedAt });
    expect(issues).toContainEqual(expect.objectContaining({ path: 'issuedAt' }));
    expect(issues[0]?.code).toMatch(/invalid_timestamp|invalid_format/);
  });

  it('refuses a command that expires before it was issued', () => {
    expectIssue(
      { ...validCommand(), expiresAt: '2026-12-03T09:00:00Z' },
      'invalid_timestamp',
      'expiresAt',
    );
  });

  it('refuses a signature envelope with missing or malformed parts', () => {
    const credential = 'aGVhZGVy.cGF5bG9hZA.c2ln';
    expectIssue({ ...validCommand(), auth: { credential } }, 'missing_field', 'auth.signature');
    expectIssue(
      { ...validCommand(), auth: { signature: 'aGVhZGVy..c2ln' } },
      'missing_field',
      'auth.credential',
    );
    expectIssue(
      { ...validCommand(), auth: { credential, signature: 'aGVhZGVy.cGF5bG9hZA.c2ln' } },
      'invalid_format',
      'auth.signature',
    );
  });

  it('refuses an unknown outcome and an unknown error code', () => {
    expectIssue({ ...validResult(), outcome: 'maybe' }, 'invalid_value', 'outcome');
    expectIssue(
      { ...validResult(), error: { code: 'oops', message: '' } },
      'invalid_value',
      'error.code',
    );
  });
});

describe('salvageCommandId', () => {
  it('recovers a well-formed id from an otherwise invalid message', () => {
    expect(salvageCommandId({ id: 'cmd-0001-abcdef', kind: 'nonsense' })).toBe('cmd-0001-abcdef');
  });

  it('recovers nothing from a hostile id', () => {
    expect(salvageCommandId({ id: '../../etc/passwd' })).toBeNull();
    expect(salvageCommandId('cmd-0001-abcdef')).toBeNull();
  });
});
