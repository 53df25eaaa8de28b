import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDirectory } from './helpers/memory-directory.js';
import { sendRaw } from './helpers/raw-http.js';
import { startChecks, type RunningChecks } from './helpers/start-checks.js';

// Input the plugins never send is refused with a 4xx: a deny to the broker, never an allow and
// never a 5xx (which would make the plug retry four times while the whole broker waits).

const FORM = 'application/x-www-form-urlencoded';

function request(
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  method = 'POST',
): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const all: Record<string, string> = {
    Host: '127.0.0.1:18080',
    Authorization: 'Basic YWxpY2U6',
    Accept: '*/*',
    'Content-Length': String(bytes.length),
    'Content-Type': FORM,
    ...headers,
  };
  const head = Object.entries(all)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');

  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\n${head}\r\n\r\n`), bytes]);
}

const acl = (topic: string, acc: string, username = 'alice') =>
  `username=${username}&password=&topic=${topic}&acc=${acc}&clientid=client id not available`;

describe('malformed broker requests', () => {
  let service: RunningChecks;

  beforeAll(async () => {
    const directory = new MemoryDirectory({
      principals: [{ id: 'alice', kind: 'app', secret: 'pw', superuser: true }],
    });
    service = await startChecks(directory);
  });

  afterAll(async () => {
    await service.close();
  });

  it('allows the well-formed request these cases are variations of', async () => {
    const response = await sendRaw(service.port, request('/acl', acl('a%2Fb', '2')));

    expect(response.status).toBe(200);
  });

  it.each([
    ['a raw "+" the plug would have encoded', acl('a+b', '2')],
    ['a raw space in a value', acl('a b', '2')],
    ['a raw "/" in a value', acl('a/b', '2')],
    ['a broken percent escape', acl('a%2', '2')],
    ['a percent escape with a non-hex digit', acl('a%G1', '2')],
    ['a value that is not UTF-8', acl('%C3%28', '2')],
    ['acc 3 (the plug never sends readwrite)', acl('a', '3')],
    ['acc 0', acl('a', '0')],
    ['acc -1 on the acl URI', acl('a', '-1')],
    ['an acc that is not a number', acl('a', 'write')],
    ['an empty topic on the acl URI', acl('', '2')],
    ['a missing acc field', 'username=alice&password=&topic=a&clientid=x'],
    ['a missing username field', 'password=&topic=a&acc=2&clientid=x'],
    ['a duplicated username', 'username=alice&username=bob&password=&topic=a&acc=2&clientid='],
    ['a field without "="', 'username&password=&topic=a&acc=2&clientid='],
    ['a trailing "&"', 'username=alice&password=&topic=a&acc=2&'],
    ['an empty body', ''],
    ['a password on the acl URI', acl('a', '2').replace('password=', 'password=x')],
    ['a non-printable byte in the raw clientid', `${acl('a', '2')}\u0001`],
    ['a JSON body', '{"username":"alice","topic":"a","acc":2}'],
  ])('refuses %s with 400', async (_name, body) => {
    const response = await sendRaw(service.port, request('/acl', body));

    expect(response.status).toBe(400);
  });

  it('refuses an unknown path with 404 and a wrong method with 405', async () => {
    expect((await sendRaw(service.port, request('/nope', acl('a', '2')))).status).toBe(404);
    expect((await sendRaw(service.port, request('/acl?x=1', acl('a', '2')))).status).toBe(404);
    expect((await sendRaw(service.port, request('/acl', '', {}, 'GET'))).status).toBe(405);
    expect((await sendRaw(service.port, request('/auth', '', {}, 'PUT'))).status).toBe(405);
  });

  it('refuses a wrong or missing Content-Type with 400', async () => {
    const json = request('/acl', acl('a', '2'), { 'Content-Type': 'application/json' });
    const missing = request('/acl', acl('a', '2'), { 'Content-Type': '' });

    expect((await sendRaw(service.port, json)).status).toBe(400);
    expect((await sendRaw(service.port, missing)).status).toBe(400);
  });

  it('refuses an oversized body with 413 before reading it', async () => {
    const topic = 'a'.repeat(20_000);
    const response = await sendRaw(service.port, request('/acl', acl(topic, '2')));

    expect(response.status).toBe(413);
  });

  it('refuses a Content-Length that promises too much with 413', async () => {
    const head = request('/acl', '', { 'Content-Length': '999999999' });
    const response = await sendRaw(service.port, head);

    expect(response.status).toBe(413);
  });

  it('refuses credentials that do not match the body', async () => {
    const auth = 'username=alice&password=pw&topic=&acc=-1&clientid=';
    const wrongHeader = request('/auth', auth, { Authorization: 'Basic Ym9iOnB3' });
    const noHeader = request('/auth', auth, { Authorization: '' });

    expect((await sendRaw(service.port, wrongHeader)).status).toBe(400);
    expect((await sendRaw(service.port, noHeader)).status).toBe(400);
  });

  it('refuses getuser and superuser requests that carry a topic or an ACL acc', async () => {
    const withTopic = 'username=alice&password=&topic=a&acc=-1&clientid=';
    const withAcc = 'username=alice&password=&topic=&acc=2&clientid=';

    expect((await sendRaw(service.port, request('/superuser', withTopic))).status).toBe(400);
    expect((await sendRaw(service.port, request('/superuser', withAcc))).status).toBe(400);
  });

  it('refuses a jwt request with a token outside the plug encoding or with a username', async () => {
    const body = 'topic=&acc=-1&clientid=';
    const rawPlus = request('/auth', body, { Authorization: 'Bearer a+b' });
    const withUser = request('/auth', `username=alice&${body}`, { Authorization: 'Bearer abc' });

    expect((await sendRaw(service.port, rawPlus)).status).toBe(400);
    expect((await sendRaw(service.port, withUser)).status).toBe(400);
  });

  it('refuses a request line or headers node:http cannot parse with 400', async () => {
    const response = await sendRaw(service.port, 'NONSENSE\r\n\r\n');

    expect(response.status).toBe(400);
  });

  it('counted every refusal as malformed and none as an error', () => {
    const metrics = service.metrics.render();

    expect(metrics).toMatch(/outcome="malformed"\} [1-9]/);
    expect(metrics).not.toMatch(/outcome="error"\} [1-9]/);
  });
});
