import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerChecksOptionsInput } from '../src/broker/options.js';
import { MemoryDirectory } from './helpers/memory-directory.js';
import { sendRaw, type RawResponse } from './helpers/raw-http.js';
import { startChecks, type RunningChecks } from './helpers/start-checks.js';
import { brokerToken, makeTrustKey, type TestTrustKey } from './helpers/trust-root.js';

// mosquitto-go-auth's http backend and its jwt backend in remote mode: JSON or form bodies, POST
// (or GET/PUT), answers in the status, json or text response mode. The same engine decides.

const RESULTS_A = 'beckon/v1/agents/agent-a/results';

interface GoRequest {
  readonly path: string;
  readonly body: string;
  readonly contentType?: string;
  readonly method?: string;
  readonly authorization?: string;
}

function goRequest(request: GoRequest): string {
  return [
    `${request.method ?? 'POST'} ${request.path} HTTP/1.1`,
    'Host: 127.0.0.1:18080',
    'User-Agent: mosquitto-2.1.0',
    `Content-Length: ${Buffer.byteLength(request.body)}`,
    ...(request.authorization === undefined ? [] : [`Authorization: ${request.authorization}`]),
    `Content-Type: ${request.contentType ?? 'application/json'}`,
    'Accept-Encoding: gzip',
    '',
    request.body,
  ].join('\r\n');
}

let service: RunningChecks | undefined;
let key: TestTrustKey;

afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function start(options: BrokerChecksOptionsInput = {}): Promise<RunningChecks> {
  key = await makeTrustKey('k1');
  const directory = new MemoryDirectory({
    principals: [
      { id: 'agent-a', kind: 'agent', secret: 'agent-secret' },
      { id: 'app-p', kind: 'app', secret: 'app-secret' },
    ],
    grants: [{ id: 'g', appId: 'app-p', agents: ['agent-a'], groups: [] }],
    trustKeys: [key.trustKey],
  });
  service = await startChecks(directory, options);

  return service;
}

const send = (request: GoRequest): Promise<RawResponse> =>
  sendRaw(service!.port, goRequest(request));

describe('go-auth http backend, JSON params, status responses', () => {
  it('authenticates with username and password from the JSON body', async () => {
    await start();
    const body = (password: string) =>
      JSON.stringify({ username: 'agent-a', password, clientid: 'agent-a-1' });

    expect((await send({ path: '/go-auth/user', body: body('agent-secret') })).status).toBe(200);
    expect((await send({ path: '/go-auth/user', body: body('wrong') })).status).toBe(403);
  });

  it('answers superuser and ACL checks, acc 1 read, 2 write, 3 readwrite, 4 subscribe', async () => {
    await start();
    const acl = (username: string, acc: number) =>
      JSON.stringify({ username, clientid: 'c', topic: RESULTS_A, acc });

    expect((await send({ path: '/go-auth/superuser', body: '{"username":"app-p"}' })).status).toBe(
      403,
    );
    expect((await send({ path: '/go-auth/acl', body: acl('app-p', 1) })).status).toBe(200);
    expect((await send({ path: '/go-auth/acl', body: acl('app-p', 4) })).status).toBe(200);
    expect((await send({ path: '/go-auth/acl', body: acl('app-p', 2) })).status).toBe(403);
    expect((await send({ path: '/go-auth/acl', body: acl('agent-a', 2) })).status).toBe(200);
    expect((await send({ path: '/go-auth/acl', body: acl('agent-a', 3) })).status).toBe(403);
  });

  it('accepts GET and PUT, as go-auth can be told to use them', async () => {
    await start();
    const body = JSON.stringify({ username: 'app-p', clientid: 'c', topic: RESULTS_A, acc: 1 });

    expect((await send({ path: '/go-auth/acl', body, method: 'GET' })).status).toBe(200);
    expect((await send({ path: '/go-auth/acl', body, method: 'PUT' })).status).toBe(200);
  });

  it('refuses bodies go-auth would not send with 400', async () => {
    await start();

    for (const body of [
      '{"username":"app-p","clientid":"c","topic":"t","acc":5}',
      '{"username":"app-p","clientid":"c","topic":"t","acc":"1"}',
      '{"username":"app-p","clientid":"c","topic":"t"}',
      '{"username":"app-p","clientid":"c","topic":"t","acc":1,"extra":true}',
      '{"username":1,"clientid":"c","topic":"t","acc":1}',
      '[]',
      'not json',
    ]) {
      expect((await send({ path: '/go-auth/acl', body })).status, body).toBe(400);
    }
  });
});

describe('go-auth http backend, form params', () => {
  it('reads a Go url.Values form, where a space is "+"', async () => {
    await start();
    const form =
      'acc=1&clientid=my+client&topic=beckon%2Fv1%2Fagents%2Fagent-a%2Fresults&username=app-p';

    const response = await send({
      path: '/go-auth/acl',
      body: form,
      contentType: 'application/x-www-form-urlencoded',
    });

    expect(response.status).toBe(200);
  });
});

describe('go-auth response modes', () => {
  it('answers {"ok":true} / {"ok":false} in json mode', async () => {
    await start({ goAuth: { responseMode: 'json' } });
    const acl = (acc: number) =>
      JSON.stringify({ username: 'app-p', clientid: 'c', topic: RESULTS_A, acc });

    const yes = await send({ path: '/go-auth/acl', body: acl(1) });
    const no = await send({ path: '/go-auth/acl', body: acl(2) });
    const bad = await send({ path: '/go-auth/acl', body: '{}' });

    expect([yes.status, JSON.parse(yes.body)]).toEqual([200, { ok: true, error: '' }]);
    expect([no.status, JSON.parse(no.body)]).toEqual([403, { ok: false, error: 'not authorised' }]);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false });
  });

  it('answers "ok" or a reason in text mode', async () => {
    await start({ goAuth: { responseMode: 'text' } });
    const acl = (acc: number) =>
      JSON.stringify({ username: 'app-p', clientid: 'c', topic: RESULTS_A, acc });

    expect((await send({ path: '/go-auth/acl', body: acl(1) })).body).toBe('ok');
    expect((await send({ path: '/go-auth/acl', body: acl(2) })).body).not.toBe('ok');
  });
});

describe('go-auth jwt backend, remote mode', () => {
  it('verifies the Bearer token and takes the user from it, not from the body', async () => {
    await start();
    const token = await brokerToken(key, { sub: 'app-p' });
    const authorization = `Bearer ${token}`;
    const acl = (username: string | undefined, acc: number) =>
      JSON.stringify({
        ...(username === undefined ? {} : { username }),
        clientid: 'c',
        topic: RESULTS_A,
        acc,
      });

    expect((await send({ path: '/go-auth/user', body: 'null', authorization })).status).toBe(200);
    expect(
      (await send({ path: '/go-auth/user', body: '{"username":"app-p"}', authorization })).status,
    ).toBe(200);
    expect((await send({ path: '/go-auth/superuser', body: 'null', authorization })).status).toBe(
      403,
    );
    expect(
      (await send({ path: '/go-auth/acl', body: acl(undefined, 1), authorization })).status,
    ).toBe(200);
    // A username in the body is what go-auth read from the token unchecked; it widens nothing.
    expect(
      (await send({ path: '/go-auth/acl', body: acl('agent-a', 2), authorization })).status,
    ).toBe(403);
  });

  it('takes an empty form body from a GET getuser request', async () => {
    await start();
    const token = await brokerToken(key, { sub: 'app-p' });
    const response = await send({
      path: '/go-auth/user',
      body: '',
      method: 'GET',
      contentType: 'application/x-www-form-urlencoded',
      authorization: `Bearer ${token}`,
    });

    expect(response.status).toBe(200);
  });

  it('refuses a token that does not verify', async () => {
    await start();
    const authorization = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHAtcCJ9.c2lnbmF0dXJl';

    expect((await send({ path: '/go-auth/user', body: 'null', authorization })).status).toBe(403);
  });
});

describe('broker key on go-auth', () => {
  it('requires the key on the http backend and not on the jwt backend', async () => {
    await start({ brokerKey: 'a-long-random-broker-key' });
    const body = JSON.stringify({ username: 'agent-a', password: 'agent-secret', clientid: 'c' });
    const basic = `Basic a-long-random-broker-key`;

    expect((await send({ path: '/go-auth/user', body })).status).toBe(401);
    expect((await send({ path: '/go-auth/user', body, authorization: 'Basic wrong' })).status).toBe(
      401,
    );
    expect((await send({ path: '/go-auth/user', body, authorization: basic })).status).toBe(200);

    const token = await brokerToken(key, { sub: 'app-p' });
    expect(
      (await send({ path: '/go-auth/user', body: 'null', authorization: `Bearer ${token}` }))
        .status,
    ).toBe(200);
  });
});

describe('backends that are switched off', () => {
  it('answer 404, not a decision', async () => {
    await start({ backends: ['plug-http'] });
    const body = JSON.stringify({ username: 'app-p', clientid: 'c', topic: RESULTS_A, acc: 1 });

    expect((await send({ path: '/go-auth/acl', body })).status).toBe(404);
  });
});
