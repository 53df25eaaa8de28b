import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerChecks, type BrokerChecks } from '../src/broker/broker-checks.js';
import { createBrokerServer } from '../src/broker/listen.js';
import type { WireLimitsInput } from '../src/broker/wire/limits.js';
import { createBrokerWireServer, type BrokerWireServer } from '../src/broker/wire/wire-server.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { MemoryDirectory } from './helpers/memory-directory.js';
import { startTestService, type TestService } from './helpers/service.js';
import { WireClient } from './helpers/wire-client.js';

// The lean HTTP/1.1 reader of the broker-check listener, over real sockets: exact answers,
// keep-alive, pipelining in order, framing refused strictly, timeouts, and the hand-off of
// every other request to node:http.

const FORM = 'application/x-www-form-urlencoded';
/** The Date every answer of these tests carries (the clock is pinned). */
const PINNED_MS = Date.UTC(2026, 0, 2, 3, 4, 5);
const PINNED_DATE = 'Fri, 02 Jan 2026 03:04:05 GMT';
const SHORT_LIMITS: WireLimitsInput = {
  headersTimeoutMs: 150,
  requestTimeoutMs: 300,
  keepAliveTimeoutMs: 200,
  maxHeaderBytes: 2_048,
};

const basic = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

/** A plug http-backend request as the plug writes it (new connection each in real life). */
function plug(
  path: '/auth' | '/acl' | '/superuser',
  username: string,
  options: { password?: string; topic?: string; acc?: string; extra?: string[] } = {},
): string {
  const password = options.password ?? '';
  const body =
    `username=${username}&password=${password}&topic=${options.topic ?? ''}` +
    `&acc=${options.acc ?? '-1'}&clientid=${path === '/acl' ? 'client id not available' : ''}`;

  return [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1:18080',
    `Authorization: ${basic(username, password)}`,
    'Accept: */*',
    ...(options.extra ?? []),
    `Content-Length: ${body.length}`,
    `Content-Type: ${FORM}`,
    '',
    body,
  ].join('\r\n');
}

const allowedAcl = (extra: string[] = []): string =>
  plug('/acl', 'alice', { topic: 'a%2Fb', acc: '2', extra });
const deniedAcl = (): string => plug('/acl', 'alice', { topic: 'nope', acc: '2' });
const ACL_BODY_BYTES = allowedAcl().split('\r\n\r\n')[1]?.length ?? 0;
const login = (): string => plug('/auth', 'alice', { password: 'pw' });

const exact = (status: string, connection?: string): string =>
  `HTTP/1.1 ${status}\r\nContent-Length: 0\r\nDate: ${PINNED_DATE}\r\n` +
  (connection === undefined ? '' : `Connection: ${connection}\r\n`) +
  '\r\n';

interface Running {
  readonly checks: BrokerChecks;
  readonly wire: BrokerWireServer;
  readonly port: number;
  readonly directory: MemoryDirectory;
  readonly metrics: MetricsRegistry;
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

async function startWire(limits: WireLimitsInput = SHORT_LIMITS): Promise<Running> {
  const directory = new MemoryDirectory({
    principals: [{ id: 'alice', kind: 'app', secret: 'pw' }],
    rules: [
      {
        id: 'alice-ab',
        subject: { kind: 'principal', id: 'alice' },
        pattern: 'a/b',
        access: ['write'],
        effect: 'allow',
      },
    ],
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        }
      }

      callback();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const metrics = new MetricsRegistry();
  const checks = createBrokerChecks({ directory, logger, metrics });
  const wire = createBrokerWireServer({
    checks,
    fallback: createBrokerServer(checks),
    logger,
    limits,
    now: () => PINNED_MS,
  });

  await new Promise<void>((resolve) => {
    wire.server.listen(0, '127.0.0.1', resolve);
  });

  return {
    checks,
    wire,
    port: (wire.server.address() as AddressInfo).port,
    directory,
    metrics,
    logs,
    close: async () => {
      checks.close();
      const closed = wire.close();
      wire.closeAllConnections();
      await closed;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the lean broker listener', () => {
  let running: Running;

  beforeAll(async () => {
    running = await startWire();
  });

  afterAll(async () => {
    await running.close();
  });

  const open = (): Promise<WireClient> => WireClient.connect(running.port);

  it('answers allowed and denied plug checks byte for byte', async () => {
    const allowed = await open();
    allowed.write(allowedAcl());
    expect((await allowed.response()).raw).toBe(exact('200 OK'));

    const denied = await open();
    denied.write(deniedAcl());
    expect((await denied.response()).raw).toBe(exact('403 Forbidden'));

    allowed.destroy();
    denied.destroy();
  });

  it('answers several requests one after another on one kept-alive connection', async () => {
    const client = await open();

    for (const request of [allowedAcl(), deniedAcl(), allowedAcl()]) {
      client.write(request);
      await client.response();
    }

    client.write(deniedAcl());
    expect((await client.response()).status).toBe(403);
    expect(client.isClosed).toBe(false);
    client.destroy();
  });

  it('answers pipelined requests in order, even behind a login waiting on its hash', async () => {
    const client = await open();
    client.write(login() + allowedAcl() + deniedAcl() + allowedAcl());

    const statuses = (await client.responses(4)).map((response) => response.status);

    expect(statuses).toEqual([200, 200, 403, 200]);
    expect(running.directory.verifyCalls).toBeGreaterThan(0);
    client.destroy();
  });

  it('answers more pipelined requests than it holds at once, in order', async () => {
    const client = await open();
    const requests = [
      login(),
      ...Array.from({ length: 39 }, (_, index) => (index % 2 === 0 ? allowedAcl() : deniedAcl())),
    ];
    client.write(requests.join(''));

    const statuses = (await client.responses(requests.length)).map((response) => response.status);

    expect(statuses).toEqual([
      200,
      ...Array.from({ length: 39 }, (_, i) => (i % 2 === 0 ? 200 : 403)),
    ]);
    client.destroy();
  });

  it('closes an HTTP/1.0 connection unless it asks to be kept alive', async () => {
    const closing = await open();
    closing.write(allowedAcl().replace('HTTP/1.1', 'HTTP/1.0'));
    expect((await closing.response()).raw).toBe(exact('200 OK', 'close'));
    await closing.closed;

    const kept = await open();
    kept.write(allowedAcl(['Connection: keep-alive']).replace('HTTP/1.1', 'HTTP/1.0'));
    expect((await kept.response()).raw).toBe(exact('200 OK', 'keep-alive'));
    kept.write(deniedAcl());
    expect((await kept.response()).status).toBe(403);
    kept.destroy();
  });

  it('closes the connection after answering a request with Connection: close', async () => {
    const client = await open();
    client.write(allowedAcl(['Connection: close']) + allowedAcl());

    expect((await client.response()).raw).toBe(exact('200 OK', 'close'));
    await client.closed;
    expect(client.unread).toBe('');
  });

  it('reads a request sent one byte at a time', async () => {
    const client = await open();
    await client.trickle(allowedAcl());

    expect((await client.response()).status).toBe(200);
    client.destroy();
  });

  it('answers Expect: 100-continue before the body comes', async () => {
    const client = await open();
    const request = allowedAcl(['Expect: 100-continue']);
    const bodyAt = request.indexOf('\r\n\r\n') + 4;
    client.write(request.slice(0, bodyAt));

    expect((await client.response()).raw).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    client.write(request.slice(bodyAt));
    expect((await client.response()).status).toBe(200);
    client.destroy();
  });

  it('refuses a wrong method with 405 naming the allowed ones, and closes', async () => {
    const client = await open();
    client.write(allowedAcl().replace('POST', 'PUT'));
    const response = await client.response();

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    await client.closed;
  });

  it.each([
    ['a request line without a version', 'POST /acl\r\nHost: x\r\n\r\n', 400],
    ['a request line with two spaces', 'POST  /acl HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['an unknown HTTP version', 'POST /acl HTTP/2.0\r\nHost: x\r\n\r\n', 505],
    ['a lower-case version', 'POST /acl http/1.1\r\nHost: x\r\n\r\n', 400],
    ['a control byte in the target', 'POST /a\u0001cl HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a bare LF ending a line', 'POST /acl HTTP/1.1\nHost: x\r\n\r\n', 400],
    ['a folded header line', allowedAcl().replace('Accept: */*', 'Accept: */*\r\n  more'), 400],
    ['a space before a colon', allowedAcl().replace('Accept:', 'Accept :'), 400],
    ['a header line without a colon', allowedAcl().replace('Accept: */*', 'Accept'), 400],
    ['a bare CR inside a value', allowedAcl().replace('*/*', '*\r/*'), 400],
    ['a control byte inside a value', allowedAcl().replace('*/*', '*\u0001/*'), 400],
    ['a DEL inside a value', allowedAcl().replace('*/*', '*\u007f/*'), 400],
    // Without the NUL this head would be a 411 (a POST without Content-Length).
    ['a NUL ending the last header', 'POST /acl HTTP/1.1\r\nHost: x\u0000\r\n\r\n', 400],
    ['two Content-Length headers', allowedAcl(['Content-Length: 1']), 400],
    ['two Content-Length headers alike', allowedAcl([`Content-Length: ${ACL_BODY_BYTES}`]), 400],
    [
      'a Content-Length that is not a number',
      allowedAcl().replace(/Length: \d+/, 'Length: 8x'),
      400,
    ],
    ['Transfer-Encoding with Content-Length', allowedAcl(['Transfer-Encoding: chunked']), 400],
    [
      'a chunked body',
      'POST /acl HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      411,
    ],
    ['a POST without Content-Length', `POST /acl HTTP/1.1\r\nContent-Type: ${FORM}\r\n\r\n`, 411],
    ['a body larger than the limit', allowedAcl().replace(/Length: \d+/, 'Length: 16385'), 413],
    ['an expectation other than 100-continue', allowedAcl(['Expect: something']), 417],
    ['a head larger than the limit', allowedAcl([`X-Pad: ${'p'.repeat(3_000)}`]), 431],
  ])('refuses %s and closes the connection', async (_name, request, status) => {
    const client = await open();
    client.write(request);
    const response = await client.response();

    expect(response.status).toBe(status);
    expect(response.headers.get('connection')).toBe('close');
    await client.closed;
  });

  it('refuses a head that never ends once it outgrows the limit', async () => {
    const client = await open();
    client.write(`POST /acl HTTP/1.1\r\nX-Pad: ${'p'.repeat(4_000)}`);

    expect((await client.response()).status).toBe(431);
    await client.closed;
  });

  it('answers 408 and closes when a head is not complete in time', async () => {
    const client = await open();
    client.write('POST /acl HTTP/1.1\r\nHost: x\r\n');

    expect((await client.response()).raw).toBe(exact('408 Request Timeout', 'close'));
    await client.closed;
  });

  it('answers 408 when a body does not arrive in time', async () => {
    const client = await open();
    const request = allowedAcl();
    client.write(request.slice(0, -5));

    expect((await client.response()).status).toBe(408);
    await client.closed;
  });

  it('closes a kept-alive connection that stays idle', async () => {
    const client = await open();
    client.write(allowedAcl());
    await client.response();
    await client.closed;

    expect(client.unread).toBe('');
  });

  it('closes a connection that never sends a byte', async () => {
    const client = await open();
    await client.closed;

    expect(client.unread).toBe('');
  });

  it('survives clients that reset mid-request and garbage of every kind', async () => {
    const resetting = await open();
    resetting.write(allowedAcl().slice(0, 40));
    await sleep(10);
    resetting.socket.resetAndDestroy();

    for (let round = 0; round < 200; round += 1) {
      const client = await open();
      client.write(randomBytes(1 + (round % 64) * 37));

      if (round % 3 === 0) {
        client.socket.resetAndDestroy();
      } else {
        client.socket.end();
      }
    }

    await sleep(50);
    const client = await open();
    client.write(allowedAcl());
    expect((await client.response()).status).toBe(200);
    client.destroy();
    expect(running.logs.filter((line) => Number(line['level']) >= 50)).toEqual([]);
  });

  it('answers a request whose sender closed its side right after sending it', async () => {
    const client = await open();
    client.socket.end(allowedAcl());

    expect((await client.response()).status).toBe(200);
    await client.closed;
  });

  it('hands a request that is not a broker check to node:http, mid-connection', async () => {
    const client = await open();
    client.write(allowedAcl() + 'GET /acl?x=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    const [checked, handed] = await client.responses(2);

    expect(checked?.raw).toBe(exact('200 OK'));
    expect(handed?.status).toBe(404);
    expect(handed?.raw).toMatch(/content-length: 0/);
    client.destroy();
  });

  it('hands over only once the answers before it are written', async () => {
    const client = await open();
    client.write(login() + 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n');
    const statuses = (await client.responses(2)).map((response) => response.status);

    expect(statuses).toEqual([200, 404]);
    client.destroy();
  });

  it('counts refusals with a known route as malformed checks, like node:http did', () => {
    const metrics = running.metrics.render();

    expect(metrics).toMatch(/endpoint="acl",backend="plug-http",outcome="malformed"\} [1-9]/);
    expect(metrics).toMatch(/beckon_auth_broker_unrouted_requests_total [1-9]/);
  });
});

describe('closing the lean listener', () => {
  it('writes the answers under way, the last with Connection: close, and drops idle ones', async () => {
    const running = await startWire();
    const { directory } = running;
    const verify = directory.verifySecret.bind(directory);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const hashing = new Promise<void>((resolve) => {
      entered = resolve;
    });
    // The login's hash waits until the listener is closing.
    directory.verifySecret = async (username, password) => {
      entered();
      await held;

      return verify(username, password);
    };
    const idle = await WireClient.connect(running.port);
    const busy = await WireClient.connect(running.port);
    busy.write(login());
    await hashing;
    const closed = running.wire.close();
    await idle.closed;
    release();

    expect((await busy.response()).raw).toBe(exact('200 OK', 'close'));
    await Promise.all([busy.closed, closed]);
    running.checks.close();
  });
});

describe('the service broker listener', () => {
  let test: TestService;

  beforeAll(async () => {
    test = await startTestService();
  });

  afterAll(async () => {
    await test.close();
  });

  it('answers /healthz and /readyz through node:http', async () => {
    const client = await WireClient.connect(test.service.ports.broker);
    client.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
    const [health, ready] = await client.responses(2);

    expect(health?.status).toBe(200);
    expect(JSON.parse(health?.body ?? '')).toEqual({ status: 'ok' });
    expect(ready?.status).toBe(200);
    client.destroy();
  });

  it('answers /acl and then /healthz on one kept-alive connection', async () => {
    const client = await WireClient.connect(test.service.ports.broker);
    client.write(deniedAcl());
    const acl = await client.response();

    expect(acl.status).toBe(403);
    expect(acl.raw).toMatch(/^HTTP\/1\.1 403 Forbidden\r\nContent-Length: 0\r\nDate: /);

    client.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await client.response()).status).toBe(200);
    client.destroy();
  });
});
