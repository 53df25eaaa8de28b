import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  ApiErrorBody,
  AppAgentsResponse,
  BrokerTokenResponse,
  CredentialHttpResponse,
  describeIssues,
  safeParse,
  type PublicJwk,
} from '@beckon/shared';
import type { z } from 'zod';
import { BeckonError, type ErrorCode } from './errors.js';

const REQUEST_TIMEOUT_MS = 10_000;
/** Auth-service answers are small; anything bigger is not one. */
const MAX_RESPONSE_BYTES = 256 * 1_024;

export interface AuthServiceOptions {
  /** The auth-service's admin listener, e.g. https://auth.example:8443 */
  readonly url: string;
  readonly appId: string;
  readonly secret: string;
  readonly ca?: Buffer;
}

interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

function readBody(response: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;

      if (size > MAX_RESPONSE_BYTES) {
        response.destroy(new Error(`response is larger than ${MAX_RESPONSE_BYTES} bytes`));
        return;
      }

      chunks.push(chunk);
    });
    response.once('error', reject);
    response.once('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch {
        resolve(undefined);
      }
    });
  });
}

// node:http rather than fetch: a private CA for the admin listener needs the `ca` option.
function call(
  options: AuthServiceOptions,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<HttpAnswer> {
  const url = new URL(path, options.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const basic = Buffer.from(`${options.appId}:${options.secret}`).toString('base64');

  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          authorization: `Basic ${basic}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (response) => {
        readBody(response).then(
          (parsed) => {
            resolve({ status: response.statusCode ?? 0, body: parsed });
          },
          (error: unknown) => {
            reject(error instanceof Error ? error : new Error('the response could not be read'));
          },
        );
      },
    );
    request.once('timeout', () => {
      request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`));
    });
    request.once('error', reject);
    request.end(payload);
  });
}

/**
 * One auth-service call whose answer must match `schema`. Refusals (401/403) become
 * not_authorised, anything else `failureCode`, with the service's own message when it sent one.
 */
async function callFor<S extends z.ZodType>(
  options: AuthServiceOptions,
  what: string,
  failureCode: ErrorCode,
  schema: S,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  notFoundCode: ErrorCode = failureCode,
): Promise<z.output<S>> {
  let answer: HttpAnswer;

  try {
    answer = await call(options, method, path, body);
  } catch (error) {
    throw new BeckonError(failureCode, `${what}: the auth-service is unreachable`, {
      cause: error,
    });
  }

  if (answer.status < 200 || answer.status > 299) {
    const problem = safeParse(ApiErrorBody, answer.body);
    const reason = problem.ok
      ? `${problem.value.error.code}: ${problem.value.error.message}`
      : `HTTP ${answer.status}`;
    const code =
      answer.status === 401 || answer.status === 403
        ? 'not_authorised'
        : answer.status === 404
          ? notFoundCode
          : failureCode;

    throw new BeckonError(code, `${what}: the auth-service refused (${reason})`);
  }

  const parsed = safeParse(schema, answer.body);

  if (!parsed.ok) {
    throw new BeckonError(
      failureCode,
      `${what}: the auth-service answer does not match the contract ` +
        `(${describeIssues(parsed.issues)})`,
    );
  }

  return parsed.value;
}

/** `POST /v1/credentials`: the app's certified credential for its public key. */
export function fetchCredential(
  options: AuthServiceOptions,
  publicJwk: PublicJwk,
): Promise<CredentialHttpResponse> {
  return callFor(
    options,
    'credential request',
    'credential_unavailable',
    CredentialHttpResponse,
    'POST',
    '/v1/credentials',
    { publicJwk },
  );
}

/** `POST /v1/broker-token`: a JWT for the broker's jwt backend. */
export function fetchBrokerToken(options: AuthServiceOptions): Promise<BrokerTokenResponse> {
  return callFor(
    options,
    'broker token request',
    'not_connected',
    BrokerTokenResponse,
    'POST',
    '/v1/broker-token',
  );
}

/** `GET /v1/app/agents?group=`: the agents of a group that the app is granted now. */
export async function fetchGroupAgents(
  options: AuthServiceOptions,
  group: string,
): Promise<readonly string[]> {
  const answer = await callFor(
    options,
    `group ${group}`,
    'not_connected',
    AppAgentsResponse,
    'GET',
    `/v1/app/agents?group=${encodeURIComponent(group)}`,
    undefined,
    // The service answers 404 for a group it does not know or does not grant this app.
    'invalid_arguments',
  );

  return answer.agents;
}
