import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CredentialHttpRequest, type Grant } from '@beckon/shared';
import type { TestTrust } from './trust.js';

export interface CredentialServerOptions {
  readonly trust: TestTrust;
  readonly appId: string;
  readonly secret: string;
  readonly grants: readonly Grant[];
  readonly ttlSeconds: number;
  readonly groups?: Readonly<Record<string, readonly string[]>>;
}

export interface CredentialServer {
  readonly url: string;
  /** How many credentials were issued so far. */
  readonly issued: () => number;
  /** Every credential issued, oldest first. */
  readonly credentials: readonly string[];
  /** Every broker token issued, oldest first. */
  readonly brokerTokens: readonly string[];
  /** Answer the next credential requests with this HTTP status instead. */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1_024;

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function apiError(response: ServerResponse, status: number, code: string): void {
  send(response, status, { error: { code, message: code.replaceAll('_', ' ') } });
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = '';

  for await (const chunk of request) {
    text += String(chunk);

    if (text.length > MAX_BODY_BYTES) {
      throw new Error('body too large');
    }
  }

  return JSON.parse(text) as unknown;
}

/**
 * A real HTTP server answering the two auth-service admin calls the client makes
 * (`POST /v1/credentials`, `GET /v1/app/agents`). It stands in for the auth-service, which is
 * being built beside the client; the e2e suite in test/ runs the client against the real one.
 */
export async function startCredentialServer(
  options: CredentialServerOptions,
): Promise<CredentialServer> {
  let issued = 0;
  const credentials: string[] = [];
  const brokerTokens: string[] = [];
  let failure: number | undefined;
  const expected = `Basic ${Buffer.from(`${options.appId}:${options.secret}`).toString('base64')}`;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.headers.authorization !== expected) {
      apiError(response, 401, 'unauthorised');
      return;
    }

    const url = new URL(request.url ?? '/', 'http://localhost');

    if (request.method === 'POST' && url.pathname === '/v1/credentials') {
      if (failure !== undefined) {
        apiError(response, failure, 'unavailable');
        return;
      }

      const body = CredentialHttpRequest.safeParse(await readJson(request));

      if (!body.success) {
        apiError(response, 400, 'invalid_body');
        return;
      }

      const credential = await options.trust.issue(
        options.appId,
        body.data.publicJwk,
        options.grants,
        options.ttlSeconds,
      );
      issued += 1;
      credentials.push(credential);
      send(response, 200, {
        credential,
        expiresAt: new Date(Date.now() + options.ttlSeconds * 1_000).toISOString(),
        appId: options.appId,
        grants: options.grants,
        trustRoot: options.trust.trustRoot,
      });
      return;
    }

    if (request.method === 'POST' && url.pathname === '/v1/broker-token') {
      // Opaque here: the test broker is anonymous and only logs the username it was given.
      const token = `broker-token-${brokerTokens.length + 1}-${Date.now()}`;
      brokerTokens.push(token);
      send(response, 200, {
        token,
        expiresAt: new Date(Date.now() + options.ttlSeconds * 1_000).toISOString(),
      });
      return;
    }

    if (request.method === 'GET' && url.pathname === '/v1/app/agents') {
      const group = url.searchParams.get('group');
      const agents = group === null ? [] : options.groups?.[group];

      if (agents === undefined) {
        apiError(response, 404, 'unknown_group');
        return;
      }

      send(response, 200, { agents });
      return;
    }

    apiError(response, 404, 'not_found');
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      apiError(response, 500, 'internal');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    issued: () => issued,
    credentials,
    brokerTokens,
    failWith: (status) => {
      failure = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
