import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AclRule } from '../src/directory/types.js';
import { MemoryDirectory, type DirectoryInput } from './helpers/memory-directory.js';
import { sendRaw, wireBytes, type CapturedRequest } from './helpers/raw-http.js';
import { startChecks, type RunningChecks } from './helpers/start-checks.js';
import { brokerToken, makeTrustKey, type TestTrustKey } from './helpers/trust-root.js';

// Every request the real mosquitto-auth-plug sent in the contract captures, replayed byte for
// byte over a real socket against a directory that gives each scenario's users the access the
// scenario describes. Our answer must be the one the broker needed for that scenario: 200
// where the fake server allowed, 403 where it denied. Where the fake server injected a fault
// (500) or answered 401/302, a real service has no reason to: those users and topics are
// modelled as unknown principals and deny rules, and we answer 403, which the plug treats as a
// plain "no" (no retries, no disconnect of an already connected client).

interface Capture extends CapturedRequest {
  readonly n: number;
  readonly section: string;
  readonly scenario: string;
  readonly fake_server_status: number;
}

const BROKER_KEY = 'c2VydmljZTpzZWNyZXQ=';

function load(name: string): Capture[] {
  const url = new URL(`fixtures/mosquitto-auth-plug/${name}`, import.meta.url);

  return readFileSync(url, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Capture);
}

const allow = (
  id: string,
  subject: AclRule['subject'],
  pattern: string,
  access: AclRule['access'],
): AclRule => ({ id, subject, pattern, access, effect: 'allow' });

const denyRule = (id: string, pattern: string, access: AclRule['access']): AclRule => ({
  id,
  subject: { kind: 'all' },
  pattern,
  access,
  effect: 'deny',
});

// "normal traffic" and "options": alice subscribes to sensors, retained and $SYS topics and
// publishes x/y and opt/t; bob (a publisher) writes sensors and */t topics; alice@example.com
// may use everything; admin is a superuser.
const normalDirectory: DirectoryInput = {
  principals: [
    { id: 'alice', kind: 'app', secret: 'secret' },
    { id: 'bob', kind: 'agent', secret: 'pw', groups: ['publishers'] },
    { id: 'alice@example.com', kind: 'app', secret: 'p@ss w0rd&=+%/?#' },
    { id: 'admin', kind: 'app', secret: 'adminpw', superuser: true },
  ],
  rules: [
    allow('alice-sub', { kind: 'principal', id: 'alice' }, 'sensors/+/temp', ['subscribe']),
    allow('alice-read', { kind: 'principal', id: 'alice' }, 'sensors/#', ['read']),
    allow('alice-ret', { kind: 'principal', id: 'alice' }, 'ret/#', ['read', 'subscribe']),
    allow('alice-sys', { kind: 'principal', id: 'alice' }, '$SYS/broker/+', ['read', 'subscribe']),
    allow('alice-ab', { kind: 'principal', id: 'alice' }, 'a/b', ['subscribe']),
    allow('alice-cd', { kind: 'principal', id: 'alice' }, 'c/d', ['subscribe']),
    allow('alice-xy', { kind: 'principal', id: 'alice' }, 'x/y', ['write']),
    allow('alice-opt', { kind: 'principal', id: 'alice' }, 'opt/t', ['write']),
    allow('pub-sensors', { kind: 'group', name: 'publishers' }, 'sensors/+/temp', ['write']),
    allow('pub-t', { kind: 'group', name: 'publishers' }, '+/t', ['write']),
    allow('special', { kind: 'principal', id: 'alice@example.com' }, '#', [
      'read',
      'write',
      'subscribe',
    ]),
  ],
};

// "deny and error": everything is allowed except deny/..., err/..., reading noread/t and
// writing will/denied. mallory is disabled; err500, e401 and e302 do not exist.
const denyDirectory: DirectoryInput = {
  principals: [
    { id: 'alice', kind: 'app', secret: 'pw' },
    { id: 'bob', kind: 'app', secret: 'pw' },
    { id: 'mallory', kind: 'app', secret: 'pw', enabled: false },
  ],
  rules: [
    allow('everything', { kind: 'all' }, '#', ['read', 'write', 'subscribe']),
    denyRule('deny', 'deny/#', ['read', 'write', 'subscribe']),
    denyRule('err', 'err/#', ['read', 'write', 'subscribe']),
    denyRule('noread', 'noread/t', ['read']),
    denyRule('will', 'will/denied', ['write']),
  ],
};

type SectionKind = 'normal' | 'options' | 'deny';

function sectionOf(capture: Capture): SectionKind {
  if (capture.section.startsWith('options')) {
    return 'options';
  }

  return capture.section.startsWith('deny') ? 'deny' : 'normal';
}

/** What the broker needed in the scenario: yes where the fake allowed, no everywhere else. */
function expectedStatus(capture: Capture): 200 | 403 {
  return capture.fake_server_status === 200 ? 200 : 403;
}

const http = load('http-requests.jsonl');
const jwt = load('jwt-requests.jsonl');

describe('the captures', () => {
  it('hold every request the README describes', () => {
    expect(http).toHaveLength(167);
    expect(jwt).toHaveLength(153);
    expect(http.filter((capture) => capture.fake_server_status === 500)).toHaveLength(24);
  });
});

describe('replaying the http backend captures', () => {
  const services = new Map<SectionKind, RunningChecks>();

  beforeAll(async () => {
    services.set('normal', await startChecks(new MemoryDirectory(normalDirectory)));
    services.set(
      'options',
      await startChecks(new MemoryDirectory(normalDirectory), { brokerKey: BROKER_KEY }),
    );
    services.set('deny', await startChecks(new MemoryDirectory(denyDirectory)));
  });

  afterAll(async () => {
    await Promise.all([...services.values()].map((service) => service.close()));
  });

  it.each(http.map((capture) => [capture.n, capture.path, capture] as const))(
    'request %i (%s) gets the answer its scenario needs',
    async (_n, _path, capture) => {
      const service = services.get(sectionOf(capture))!;
      const response = await sendRaw(service.port, wireBytes(capture));

      expect(response.status).toBe(expectedStatus(capture));
    },
  );

  it('answers the injected-fault requests with a deny, never an error', async () => {
    const faults = http.filter((capture) => capture.fake_server_status >= 500);

    for (const capture of faults) {
      const service = services.get(sectionOf(capture))!;
      const response = await sendRaw(service.port, wireBytes(capture));

      // err500 is nobody we know, and err/... is denied by a rule: a "no", not an error.
      expect(response.status, `request ${capture.n}`).toBe(403);
    }
  });

  it('never writes a password into its logs', () => {
    for (const service of services.values()) {
      const text = service.rawLogs.join('\n');

      for (const secret of ['"secret"', 'adminpw', 'p@ss w0rd', '"pw"']) {
        expect(text).not.toContain(secret);
      }
    }
  });
});

describe('replaying the jwt backend captures', () => {
  const services = new Map<SectionKind, RunningChecks>();
  let key: TestTrustKey;

  beforeAll(async () => {
    key = await makeTrustKey('replay-key');
    const trustKeys = [key.trustKey];
    services.set(
      'normal',
      await startChecks(new MemoryDirectory({ ...normalDirectory, trustKeys })),
    );
    // jwt-options.conf also set http_basic_auth_key; the jwt backend ignores it, so must we.
    services.set(
      'options',
      await startChecks(new MemoryDirectory({ ...normalDirectory, trustKeys }), {
        brokerKey: BROKER_KEY,
      }),
    );
    services.set('deny', await startChecks(new MemoryDirectory({ ...denyDirectory, trustKeys })));
  });

  afterAll(async () => {
    await Promise.all([...services.values()].map((service) => service.close()));
  });

  // The captured "tokens" are stand-ins: HS256 with the literal signature "signature", or plain
  // usernames. A real service must refuse every one of them, on every URI, yet parse the
  // request (a 403, not a 400).
  it.each(jwt.map((capture) => [capture.n, capture.path, capture] as const))(
    'request %i (%s) as captured is refused: its token is not signed by the trust root',
    async (_n, _path, capture) => {
      const service = services.get(sectionOf(capture))!;
      const response = await sendRaw(service.port, wireBytes(capture));

      expect(response.status).toBe(403);
    },
  );

  // The same requests with the stand-in replaced by a real token for the same subject.
  it.each(jwt.map((capture) => [capture.n, capture.path, capture] as const))(
    'request %i (%s) with a real token gets the answer its scenario needs',
    async (_n, _path, capture) => {
      const service = services.get(sectionOf(capture))!;
      const subject = subjectOf(capture);
      const token = await brokerToken(key, { sub: subject });
      const headers = capture.headers.map(([name, value]) =>
        name === 'Authorization' ? ([name, `Bearer ${token}`] as const) : ([name, value] as const),
      );
      const response = await sendRaw(service.port, wireBytes({ ...capture, headers }));

      // In the jwt run the fake server had no rule for e401 and e302 and answered 200; for us
      // they are unknown principals, refused like err500.
      const unknown = ['e401', 'e302'].includes(subject);
      expect(response.status).toBe(unknown ? 403 : expectedStatus(capture));
    },
  );
});

// The subject a captured stand-in token names: the `sub` of the fake JWT, or the plain
// (percent-encoded) username the scenario used as its token.
function subjectOf(capture: Capture): string {
  const bearer = capture.headers.find(([name]) => name === 'Authorization')?.[1] ?? '';
  const token = decodeURIComponent(bearer.replace(/^Bearer /, ''));
  const parts = token.split('.');

  if (parts.length === 3) {
    const payload = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as {
      sub: string;
    };

    return payload.sub;
  }

  return token;
}
