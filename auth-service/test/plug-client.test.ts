import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PlugClient,
  type PlugAcc,
  type PlugClientOptions,
} from '../src/plug-client/plug-client.js';
import { wireBytes, type CapturedRequest } from './helpers/raw-http.js';

// The plug client must put on the wire exactly what the real mosquitto-auth-plug did: every
// captured request is produced again through the client and compared byte for byte with the
// capture (only the port in the default Host header differs), and the answers are read with the
// plug's semantics: 2xx yes, 5xx or nothing error, anything else no.

interface Capture extends CapturedRequest {
  readonly n: number;
  readonly section: string;
  readonly scenario: string;
  readonly fake_server_status: number;
}

function load(name: string): Capture[] {
  const url = new URL(`fixtures/mosquitto-auth-plug/${name}`, import.meta.url);

  return readFileSync(url, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Capture);
}

/** A raw TCP server that records each request and answers with the status `answer` picks. */
class CaptureServer {
  readonly requests: Buffer[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  answer: (request: Buffer) => number | 'hang' = () => 200;
  port = 0;

  constructor() {
    this.#server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
      let data = Buffer.alloc(0);

      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        const headEnd = data.indexOf('\r\n\r\n');

        if (headEnd === -1) {
          return;
        }

        const length = Number(/content-length: (\d+)/i.exec(data.toString('latin1'))?.[1] ?? 0);

        if (data.length < headEnd + 4 + length) {
          return;
        }

        this.requests.push(data);
        const status = this.answer(data);

        if (status !== 'hang') {
          socket.end(`HTTP/1.1 ${status} X\r\nContent-Length: 0\r\n\r\n`);
        }
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) {
      socket.destroy();
    }

    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const server = new CaptureServer();

beforeAll(async () => {
  await server.start();
});

afterAll(async () => {
  await server.stop();
});

function fields(body: string): Map<string, string> {
  const tail = body.indexOf('&clientid=');
  const encoded = body.slice(0, tail);

  return new Map(
    encoded.split('&').map((pair) => {
      const [name = '', value = ''] = pair.split('=');

      return [name, decodeURIComponent(value)] as const;
    }),
  );
}

function bearer(capture: Capture): string {
  const header = capture.headers.find(([name]) => name === 'Authorization')?.[1] ?? '';

  return decodeURIComponent(header.replace(/^Bearer /, ''));
}

function clientFor(capture: Capture, backend: 'http' | 'jwt'): PlugClient {
  const base: PlugClientOptions = { backend, ip: '127.0.0.1', port: server.port, retryCount: 0 };

  if (!capture.section.startsWith('options')) {
    return new PlugClient(base);
  }

  if (backend === 'http') {
    return new PlugClient({
      ...base,
      hostname: 'auth.example.test',
      basicAuthKey: 'c2VydmljZTpzZWNyZXQ=',
    });
  }

  return new PlugClient({
    ...base,
    hostname: 'localhost',
    params: {
      getuser: [
        ['domain', 'example.com'],
        ['port', '8080'],
      ],
      superuser: [['domain', 'example.com']],
      aclcheck: [
        ['domain', 'example.com'],
        ['tenant', 'acme corp&co'],
        ['missing', 'NULL'],
      ],
    },
  });
}

async function replayThroughClient(capture: Capture, backend: 'http' | 'jwt'): Promise<Buffer> {
  const client = clientFor(capture, backend);
  const body = fields(capture.body);
  const username = backend === 'http' ? (body.get('username') ?? '') : bearer(capture);
  const before = server.requests.length;

  switch (capture.path) {
    case '/auth':
      await client.getUser(username, body.get('password') ?? '');
      break;
    case '/superuser':
      await client.superuser(username);
      break;
    default:
      await client.aclCheck(username, body.get('topic') ?? '', Number(body.get('acc')) as PlugAcc);
  }

  expect(server.requests.length).toBe(before + 1);

  return server.requests[before]!;
}

function expectedBytes(capture: Capture): string {
  const headers = capture.headers.map(([name, value]) =>
    name === 'Host' && value === '127.0.0.1:18080'
      ? ([name, `127.0.0.1:${server.port}`] as const)
      : ([name, value] as const),
  );

  return wireBytes({ ...capture, headers }).toString('latin1');
}

describe('byte for byte against the captures', () => {
  it.each(load('http-requests.jsonl').map((capture) => [capture.n, capture] as const))(
    'http backend request %i',
    async (_n, capture) => {
      const sent = await replayThroughClient(capture, 'http');

      expect(sent.toString('latin1')).toBe(expectedBytes(capture));
    },
  );

  it.each(load('jwt-requests.jsonl').map((capture) => [capture.n, capture] as const))(
    'jwt backend request %i',
    async (_n, capture) => {
      const sent = await replayThroughClient(capture, 'jwt');

      expect(sent.toString('latin1')).toBe(expectedBytes(capture));
    },
  );
});

describe('answers and the plug sequence', () => {
  const client = (options: Partial<PlugClientOptions> = {}) =>
    new PlugClient({ backend: 'http', ip: '127.0.0.1', port: server.port, ...options });

  it('reads 2xx as yes, 4xx and 3xx as no, 5xx as error', async () => {
    for (const [status, answer] of [
      [200, 'yes'],
      [204, 'yes'],
      [403, 'no'],
      [401, 'no'],
      [302, 'no'],
      [500, 'error'],
      [503, 'error'],
    ] as const) {
      server.answer = () => status;
      expect(await client({ retryCount: 0 }).getUser('alice', 'pw')).toBe(answer);
    }
  });

  it('retries errors back to back, four attempts by default, and the jwt backend never', async () => {
    server.answer = () => 500;
    const before = server.requests.length;

    expect(await client().getUser('err500', 'pw')).toBe('error');
    expect(server.requests.length - before).toBe(4);

    expect(await client({ backend: 'jwt' }).getUser('token', 'pw')).toBe('error');
    expect(server.requests.length - before).toBe(5);
  });

  it('asks /superuser first and skips /acl when it says yes', async () => {
    server.answer = (request) => (request.toString().startsWith('POST /superuser') ? 200 : 403);
    const before = server.requests.length;

    expect(await client().checkAcl('admin', 'any/topic', 2)).toBe('yes');
    expect(server.requests.length - before).toBe(1);
  });

  it('asks /superuser then /acl for a normal user, two requests per uncached check', async () => {
    server.answer = (request) => (request.toString().startsWith('POST /superuser') ? 403 : 200);
    const before = server.requests.length;

    expect(await client().checkAcl('alice', 'c/t', 2)).toBe('yes');
    expect(
      server.requests.slice(before).map((request) => request.toString().split(' ')[1]),
    ).toEqual(['/superuser', '/acl']);
  });

  it('turns a superuser error followed by an acl no into an error', async () => {
    server.answer = (request) => (request.toString().startsWith('POST /superuser') ? 500 : 403);

    expect(await client({ retryCount: 0 }).checkAcl('alice', 'c/t', 2)).toBe('error');
  });

  it('refuses locally, without a request, what the plug refuses locally', async () => {
    server.answer = () => 200;
    const before = server.requests.length;

    expect(await client().authenticate('carol', '')).toBe('no');
    expect(await client().authenticate('', 'pw')).toBe('no');
    expect(await client().checkAcl('a/b', 'x', 1)).toBe('no');
    expect(await client().checkAcl('a+b', 'x', 1)).toBe('no');
    expect(await client().checkAcl('a#b', 'x', 1)).toBe('no');
    expect(server.requests.length).toBe(before);
  });

  it('reports an error when nobody listens or the answer never comes', async () => {
    const closed = new CaptureServer();
    await closed.start();
    const port = closed.port;
    await closed.stop();

    expect(await client({ port, retryCount: 0 }).getUser('alice', 'pw')).toBe('error');

    server.answer = () => 'hang';
    expect(await client({ retryCount: 0, timeoutMs: 200 }).getUser('alice', 'pw')).toBe('error');
  });
});
