import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assertMatchesCapture,
  plugAclRequest,
  type PlugAcc,
  type PlugAclCheck,
} from '../lib/plug-request.js';

// The requests the real mosquitto-auth-plug sent (auth-service/test/fixtures, verbatim from the
// contract captures) are the ground truth: every /acl request in them must come out of
// plugAclRequest byte for byte, built only from what the benchmark knows about a check.

interface Capture {
  readonly n: number;
  readonly section: string;
  readonly method: string;
  readonly path: string;
  readonly http_version: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

type Backend = PlugAclCheck['backend'];

const FIXTURES = new URL(
  '../../../auth-service/test/fixtures/mosquitto-auth-plug/',
  import.meta.url,
);

function aclCaptures(file: string): Capture[] {
  return readFileSync(new URL(file, FIXTURES), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Capture)
    .filter((capture) => capture.path === '/acl');
}

/** What went on the wire: the captures keep the request line and headers apart, without CRLF. */
function wire(capture: Capture): string {
  const head = [
    `${capture.method} ${capture.path} ${capture.http_version}`,
    ...capture.headers.map(([name, value]) => `${name}: ${value}`),
  ];

  return `${head.join('\r\n')}\r\n\r\n${capture.body}`;
}

function header(capture: Capture, name: string): string {
  const found = capture.headers.find(([key]) => key === name);

  if (found === undefined) {
    throw new Error(`capture ${capture.n} has no ${name} header`);
  }

  return found[1];
}

/** The MQTT username: the form's for the http backend, the Bearer token for jwt (encoded). */
function usernameOf(capture: Capture, backend: Backend): string {
  const username =
    backend === 'http'
      ? new URLSearchParams(capture.body).get('username')
      : /^Bearer (.+)$/.exec(header(capture, 'Authorization'))?.[1];

  if (username === null || username === undefined) {
    throw new Error(`capture ${capture.n} names no ${backend === 'http' ? 'user' : 'token'}`);
  }

  return backend === 'http' ? username : decodeURIComponent(username);
}

/** The check behind a capture, from its Host header, its user (or token), topic and acc. */
function checkOf(capture: Capture, backend: Backend): PlugAclCheck {
  const form = new URLSearchParams(capture.body);

  return {
    backend,
    host: header(capture, 'Host'),
    username: usernameOf(capture, backend),
    topic: form.get('topic') ?? '',
    acc: Number(form.get('acc')) as PlugAcc,
  };
}

// The "options" captures ran the plug with settings the benchmark's auth-service never uses
// (lib/auth-config.ts sets no broker key): http_basic_auth_key replaces the user's Basic
// credentials and moves the header after Accept, and the jwt run added *_params fields from
// the environment to the body. plugAclRequest does not model them, so they are left out here,
// by name, and a test below pins which ones they are.
const isOptionsRun = (capture: Capture): boolean => capture.section.startsWith('options');

describe.each([
  ['http', 'http-requests.jsonl'],
  ['jwt', 'jwt-requests.jsonl'],
] as const)('plugAclRequest against the %s backend captures', (backend, file) => {
  const captures = aclCaptures(file);
  const reproduced = captures.filter((capture) => !isOptionsRun(capture));
  const optionsRuns = captures.filter(isOptionsRun);

  it('has /acl captures to compare with', () => {
    expect(reproduced.length).toBeGreaterThan(30);
  });

  it.each(reproduced.map((capture) => [capture.n, capture] as const))(
    'writes request %i byte for byte',
    (_n, capture) => {
      const request = plugAclRequest(checkOf(capture, backend));

      expect(request.toString('utf8')).toBe(wire(capture));
      expect(request.equals(Buffer.from(wire(capture), 'utf8'))).toBe(true);
    },
  );

  it('leaves out only the one capture made with plug options the benchmark never sets', () => {
    expect(optionsRuns.map((capture) => capture.n)).toEqual([62]);
  });
});

describe('assertMatchesCapture', () => {
  it('passes: the builder still writes what the real plug wrote', () => {
    expect(() => assertMatchesCapture()).not.toThrow();
  });
});
