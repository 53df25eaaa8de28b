import { API_ERROR_STATUS, createAdminToken } from '@beckon/auth-service';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';
import { closeRawConnections, rawRequest, type RawAnswer } from './support/raw-http.js';

// The admin and public listeners over real HTTP with random methods, paths (the documented
// routes with random segments, and anything else), queries and bodies. Every refusal must be
// one of the documented error codes with its documented status; nothing may be our own fault
// (5xx); without a valid admin token nothing but the open routes may succeed.

const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
const PUBLIC_OK_ROUTES = new Set(['/healthz', '/readyz', '/v1/agent/trust']);

let auth: RunningAuth;
let token: string;

beforeAll(async () => {
  // Limits high enough that the fuzz reaches validation rather than the rate limiter.
  auth = await startAuth({
    config: {
      publicLimits: { burst: 10_000, perSecond: 10_000 },
      loginThrottle: { maxFailures: 10_000, windowSeconds: 1 },
    },
  });
  token = (await createAdminToken(auth.service.store, 'fuzz', 'fuzz')).token;
  await auth.admin.addAgent('fz-agent', ['fz-group']);
  await auth.admin.addApp('fz-app');
});

afterAll(async () => {
  closeRawConnections();
  await auth.close();
});

const segment = fc.oneof(
  fc.constantFrom('fz-agent', 'fz-app', 'fz-group', 'nobody', '..', '.', '%00', '%2F', '%ZZ', ''),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ minLength: 129, maxLength: 300 }).map(encodeURIComponent),
);

const TEMPLATES = [
  '/v1/agents',
  '/v1/apps',
  '/v1/agents/:s',
  '/v1/apps/:s',
  '/v1/agents/:s/disable',
  '/v1/apps/:s/enable',
  '/v1/agents/:s/rotate-secret',
  '/v1/apps/:s/key',
  '/v1/superusers',
  '/v1/superusers/:s',
  '/v1/groups',
  '/v1/groups/:s',
  '/v1/groups/:s/members/:s',
  '/v1/grants',
  '/v1/grants/:s',
  '/v1/rules',
  '/v1/rules/:s',
  '/v1/enroll-tokens',
  '/v1/enroll-tokens/:s',
  '/v1/trust',
  '/v1/trust/keys/:s',
  '/v1/audit',
  '/v1/explain',
  '/v1/credentials',
  '/v1/broker-token',
  '/v1/app/agents',
  '/v1/enroll',
  '/v1/agent/trust',
  '/agent/:s',
  '/install.sh',
  '/healthz',
  '/readyz',
  '/metrics',
];

const path = fc.oneof(
  fc
    .tuple(fc.constantFrom(...TEMPLATES), fc.array(segment, { minLength: 2, maxLength: 2 }))
    .map(([template, [first, second]]) =>
      template.replace(':s', first ?? '').replace(':s', second ?? ''),
    ),
  fc.webPath().map((webPath) => (webPath.startsWith('/') ? webPath : `/${webPath}`)),
);

const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?limit=0',
    '?limit=1001',
    '?limit=abc',
    '?before=-1',
    '?appId=fz-app',
    '?username=fz-agent&topic=%23&access=read',
    '?access=all',
    '?group=',
    '?limit=1&limit=2',
  ),
  fc.webQueryParameters().map((q) => `?${q}`),
);

const FIELD_NAMES = [
  'id',
  'name',
  'groups',
  'superuser',
  'publicJwk',
  'appId',
  'agents',
  'actions',
  'subject',
  'pattern',
  'access',
  'effect',
  'expiresInSeconds',
  'uses',
  'agentId',
  'token',
  '__proto__',
  'constructor',
];

const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc
    .dictionary(fc.constantFrom(...FIELD_NAMES), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 })
    .map((value) => JSON.stringify(value)),
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');

function expectCodedError(answer: RawAnswer): void {
  const parsed = JSON.parse(answer.body) as { error?: { code?: string; message?: string } };
  const code = parsed.error?.code ?? '';

  expect(Object.keys(API_ERROR_STATUS)).toContain(code);
  expect(API_ERROR_STATUS[code as keyof typeof API_ERROR_STATUS]).toBe(answer.status);
  expect(parsed.error?.message?.length).toBeGreaterThan(0);
}

async function ask(
  port: number,
  verb: string,
  target: string,
  payload: string | undefined,
  headers: Record<string, string>,
): Promise<RawAnswer> {
  const withType: Record<string, string> =
    payload === undefined ? headers : { 'content-type': 'application/json', ...headers };

  return rawRequest(port, verb, target, withType, Buffer.from(payload ?? '', 'latin1'));
}

describe('the admin listener under arbitrary requests', () => {
  it(
    'answers every refusal with a documented code and status, never a 5xx (admin token)',
    async () => {
      await fc.assert(
        fc.asyncProperty(method, path, query, body, async (verb, target, search, payload) => {
          const answer = await ask(auth.service.ports.admin, verb, `${target}${search}`, payload, {
            authorization: `Bearer ${token}`,
          });

          expect(answer.status).toBeLessThan(500);

          if (answer.status >= 400) {
            expectCodedError(answer);
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'lets nothing but the open routes succeed without a valid admin token',
    async () => {
      const credentials = fc.oneof(
        fc.constant<Record<string, string>>({}),
        fc
          .string({ maxLength: 60 })
          .map((s) => ({ authorization: `Bearer ${encodeURIComponent(s)}` })),
        fc
          .string({ maxLength: 60 })
          .map((s) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` })),
      );

      await fc.assert(
        fc.asyncProperty(
          method,
          path,
          query,
          body,
          credentials,
          async (verb, target, search, payload, headers) => {
            const answer = await ask(
              auth.service.ports.admin,
              verb,
              `${target}${search}`,
              payload,
              headers,
            );

            expect(answer.status).toBeLessThan(500);

            if (answer.status < 400) {
              expect(OPEN_ROUTES).toContain(target);
            } else {
              expectCodedError(answer);
            }
          },
        ),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('the public listener under arbitrary requests', () => {
  it(
    'never enrolls anyone with a made-up token and answers every refusal with a code',
    async () => {
      await fc.assert(
        fc.asyncProperty(method, path, query, body, async (verb, target, search, payload) => {
          const answer = await ask(
            auth.service.ports.public,
            verb,
            `${target}${search}`,
            payload,
            {},
          );

          expect(answer.status).toBeLessThan(500);

          if (answer.status < 400) {
            expect(PUBLIC_OK_ROUTES).toContain(target);
          } else if (answer.status !== 404 || answer.body.startsWith('{')) {
            expectCodedError(answer);
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
