import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';
import { closeRawConnections, rawRequest } from './support/raw-http.js';

// The broker-check listener over real HTTP: the requests the plug and go-auth make, and every
// way a request can be broken. Nothing malformed may ever be allowed (200), nothing may be
// answered as our own fault (5xx: the plug would retry it while the broker waits).

const AGENT = 'fz-agent';
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const ALLOWED_TOPIC = `beckon/v1/agents/${AGENT}/results`;
const REFUSAL_STATUSES = [400, 401, 403, 404, 405, 413];
const ENDPOINTS = [
  '/auth',
  '/superuser',
  '/acl',
  '/go-auth/user',
  '/go-auth/superuser',
  '/go-auth/acl',
];

let auth: RunningAuth;
let port: number;
let secret: string;

beforeAll(async () => {
  auth = await startAuth();
  port = auth.service.ports.broker;
  secret = await auth.admin.addAgent(AGENT);
});

afterAll(async () => {
  closeRawConnections();
  await auth.close();
});

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

interface Request {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

const text = (value: string): Uint8Array => Buffer.from(value);

/** Requests the broker really makes, each one answered 200 as it stands. */
function validRequests(): Record<
  string,
  { fields: [string, string][]; path: string; json: boolean }
> {
  return {
    'plug getuser': {
      path: '/auth',
      json: false,
      fields: [
        ['username', AGENT],
        ['password', secret],
        ['topic', ''],
        ['acc', '-1'],
        ['clientid', ''],
      ],
    },
    'plug acl': {
      path: '/acl',
      json: false,
      fields: [
        ['username', AGENT],
        ['password', ''],
        ['topic', ALLOWED_TOPIC],
        ['acc', '2'],
        ['clientid', 'client id not available'],
      ],
    },
    'go-auth user': {
      path: '/go-auth/user',
      json: true,
      fields: [
        ['username', AGENT],
        ['password', secret],
        ['clientid', 'c1'],
      ],
    },
    'go-auth acl': {
      path: '/go-auth/acl',
      json: true,
      fields: [
        ['username', AGENT],
        ['clientid', 'c1'],
        ['topic', ALLOWED_TOPIC],
        ['acc', '2'],
      ],
    },
  };
}

function encodeForm(fields: readonly (readonly [string, string])[]): string {
  return fields.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
}

function encodeJson(fields: readonly (readonly [string, string])[]): string {
  return JSON.stringify(
    Object.fromEntries(fields.map(([key, value]) => [key, key === 'acc' ? Number(value) : value])),
  );
}

function build(
  name: string,
  fields: readonly (readonly [string, string])[],
  options: { json?: boolean; contentType?: string; method?: string; raw?: Uint8Array } = {},
): Request {
  const valid = validRequests()[name];
  const json = options.json ?? valid?.json ?? false;
  const password = fields.find(([key]) => key === 'password')?.[1] ?? '';
  // The plug's http backend repeats the credentials in Authorization (no broker key set).
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? (json ? JSON_TYPE : FORM),
    ...(json ? {} : { authorization: basic(AGENT, name === 'plug getuser' ? password : '') }),
  };

  return {
    method: options.method ?? 'POST',
    path: valid?.path ?? '/',
    headers,
    body: options.raw ?? text(json ? encodeJson(fields) : encodeForm(fields)),
  };
}

async function send(request: Request): Promise<number> {
  return (await rawRequest(port, request.method, request.path, request.headers, request.body))
    .status;
}

describe('the broker listener, control cases', () => {
  it('allows each valid request these properties break', async () => {
    for (const [name, valid] of Object.entries(validRequests())) {
      expect(await send(build(name, valid.fields)), name).toBe(200);
    }
  });
});

/** One way of breaking a valid request that always makes it malformed (answered 400). */
const breakage = fc.oneof(
  fc.record({ kind: fc.constant('duplicate-field' as const), index: fc.nat(5) }),
  fc.record({ kind: fc.constant('missing-field' as const), index: fc.nat(5) }),
  fc.record({
    kind: fc.constant('unknown-field' as const),
    name: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => /^[a-z_]+$/.test(s)),
  }),
  fc.record({
    kind: fc.constant('bad-acc' as const),
    acc: fc.oneof(
      fc.integer({ min: -100, max: 100 }).filter((n) => ![1, 2, 3, 4, -1].includes(n)),
      fc.constantFrom('', 'x', '2.0', ' 2', '0x2', '1e0', '02'),
    ),
  }),
  fc.record({
    kind: fc.constant('bad-escape' as const),
    escape: fc.constantFrom('%G1', '%zz', '%%', '%-1', '%g'),
  }),
  fc.record({
    kind: fc.constant('wrong-type' as const),
    type: fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data', ''),
  }),
  fc.record({ kind: fc.constant('invalid-utf8' as const), at: fc.nat(200) }),
);

type Breakage = typeof breakage extends fc.Arbitrary<infer T> ? T : never;

function broken(name: string, change: Breakage): Request {
  const valid = validRequests()[name];
  const fields: [string, string][] = [...(valid?.fields ?? [])];
  const at = (index: number): number => index % fields.length;

  switch (change.kind) {
    // In front: the plug writes clientid last and raw, so anything after it is client id.
    // Forms only: a JSON object cannot hold a key twice once parsed (the last one wins, as in
    // the Go decoder go-auth itself uses), so that change is dropped for JSON bodies below.
    case 'duplicate-field': {
      const field = fields[at(change.index)];
      return build(name, field === undefined ? fields : [field, ...fields]);
    }
    case 'missing-field':
      return build(
        name,
        fields.filter((_, index) => index !== at(change.index)),
      );
    // JSON only: the plug may put `*_params` fields in front of its form, by design.
    case 'unknown-field':
      return build(name, [
        ...fields,
        [change.name === 'password' ? 'pw' : `x_${change.name}`, 'v'],
      ]);
    case 'bad-acc': {
      // getuser and superuser questions carry no ACL acc, so the change applies to acl ones.
      const withAcc = fields.some(([key]) => key === 'acc');
      const acc = String(change.acc);

      if (valid?.json === true) {
        const body = JSON.parse(encodeJson(fields)) as Record<string, unknown>;
        body['acc'] = typeof change.acc === 'number' ? change.acc : acc;

        return build(name, fields, { raw: text(JSON.stringify(body)) });
      }

      return withAcc
        ? build(
            name,
            fields.map(([key, value]) => [key, key === 'acc' ? acc : value]),
          )
        : build(name, fields, { raw: text(encodeForm(fields).replace('acc=-1', `acc=${acc}`)) });
    }
    case 'bad-escape': {
      const body = valid?.json === true ? encodeJson(fields) : encodeForm(fields);

      return valid?.json === true
        ? build(name, fields, { raw: text(body.replace('{', '{"x":1,')) })
        : build(name, fields, { raw: text(body.replace('topic=', `topic=${change.escape}`)) });
    }
    case 'wrong-type':
      return build(name, fields, { contentType: change.type });
    case 'invalid-utf8': {
      const body = Buffer.from(valid?.json === true ? encodeJson(fields) : encodeForm(fields));
      const cut = change.at % body.length;

      return build(name, fields, {
        raw: Buffer.concat([body.subarray(0, cut), Buffer.from([0xc3, 0x28]), body.subarray(cut)]),
      });
    }
  }
}

describe('the broker listener under broken requests', () => {
  it(
    'answers a valid request broken in one way with 400, never allowing it',
    async () => {
      const names = Object.keys(validRequests());

      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...names), breakage, async (name, change) => {
          const json = validRequests()[name]?.json === true;
          fc.pre(!(change.kind === 'duplicate-field' && json));
          fc.pre(!(change.kind === 'unknown-field' && !json));
          const status = await send(broken(name, change));

          expect(status).toBe(400);
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'refuses arbitrary requests on any path, method, type, credentials and body',
    async () => {
      const header = fc.oneof(
        fc.constant(undefined),
        fc.string({ maxLength: 60 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
        fc.string({ maxLength: 200 }).map((s) => `Bearer ${encodeURIComponent(s)}`),
        fc.string({ maxLength: 60 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
      );
      const body = fc.oneof(
        fc.uint8Array({ maxLength: 1_024 }),
        fc
          .array(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 })), {
            maxLength: 8,
          })
          .map((pairs) => text(pairs.map(([k, v]) => `${k}=${v}`).join('&'))),
        fc.jsonValue({ maxDepth: 3 }).map((value) => text(JSON.stringify(value))),
      );

      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', 'PATCH'),
          fc.oneof(
            fc.constantFrom(...ENDPOINTS),
            fc.webPath(),
            fc.constantFrom('/auth?x=1', '//acl', '/ACL'),
          ),
          fc.constantFrom(FORM, JSON_TYPE, 'text/plain', `${FORM}; charset=utf-8`, ''),
          header,
          body,
          async (method, path, type, authorization, payload) => {
            const headers: Record<string, string> = { 'content-type': type };

            if (authorization !== undefined) {
              headers['authorization'] = authorization;
            }

            const status = await send({
              method,
              path: path === '' ? '/' : path,
              headers,
              body: payload,
            });

            expect(REFUSAL_STATUSES).toContain(status);
          },
        ),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
