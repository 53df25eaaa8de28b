import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../src/net/http-get.js';

const LIMIT = 1_024;

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    switch (request.url ?? '') {
      case '/echo-auth':
        response.end(JSON.stringify({ authorization: request.headers.authorization }));
        return;
      case '/long':
        response.end('x'.repeat(LIMIT * 4));
        return;
      case '/moved':
        response.writeHead(302, { location: '/echo-auth' }).end();
        return;
      case '/slow':
        return;
      default:
        response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const options = { headers: { authorization: 'Basic YTpi' }, timeoutMs: 2_000, maxBytes: LIMIT };

describe('httpGet (the trust refresh without fetch)', () => {
  it('sends the headers and answers the status and body', async () => {
    expect(await httpGet(new URL(`${base}/echo-auth`), options)).toEqual({
      status: 200,
      text: '{"authorization":"Basic YTpi"}',
    });
  });

  it('refuses an answer longer than the limit', async () => {
    await expect(httpGet(new URL(`${base}/long`), options)).rejects.toThrow(/longer than 1024/);
  });

  it('does not follow a redirect', async () => {
    expect((await httpGet(new URL(`${base}/moved`), options)).status).toBe(302);
  });

  it('gives up after the timeout', async () => {
    await expect(
      httpGet(new URL(`${base}/slow`), { ...options, timeoutMs: 200 }),
    ).rejects.toThrow();
  });

  it('refuses a url that is not http or https', async () => {
    await expect(httpGet(new URL('file:///etc/passwd'), options)).rejects.toThrow(/file:/);
  });
});
