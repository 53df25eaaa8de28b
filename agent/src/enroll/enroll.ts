import { hostname } from 'node:os';
import {
  ApiErrorBody,
  describeIssues,
  EnrollRequest,
  EnrollResponse,
  safeParse,
} from '@beckon/shared';
import { writeCredentials, type AgentCredentials } from './credentials-file.js';

/** The auth-service answers enrollment in milliseconds; a minute covers a slow link. */
const ENROLL_TIMEOUT_MS = 60_000;
const MAX_RESPONSE_BYTES = 256 * 1_024;

export interface EnrollOptions {
  /** The auth-service public listener, e.g. https://auth.example.com. */
  readonly url: string;
  readonly token: string;
  readonly agentId?: string;
  readonly credentialsPath: string;
  readonly hostname?: string;
}

export class EnrollError extends Error {
  override readonly name = 'EnrollError';
}

function enrollEndpoint(base: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/enroll`;

  return url;
}

function describeFailure(status: number, body: unknown): string {
  const parsed = ApiErrorBody.safeParse(body);

  if (parsed.success) {
    return `auth-service refused enrollment (${status} ${parsed.data.error.code}): ${parsed.data.error.message}`;
  }

  return `auth-service refused enrollment with HTTP ${status}`;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();

  if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES) {
    throw new EnrollError(`auth-service answered with more than ${MAX_RESPONSE_BYTES} bytes`);
  }

  try {
    return JSON.parse(text);
  } catch {
    throw new EnrollError(
      `auth-service answered HTTP ${response.status} with a body that is not JSON`,
    );
  }
}

/**
 * Trades a one-time enrollment token for the agent's credentials and trust root, and writes
 * them to the credentials file (0600). Returns what was written; callers must not print the
 * password.
 */
export async function enroll(options: EnrollOptions): Promise<AgentCredentials> {
  const request = safeParse(EnrollRequest, {
    token: options.token,
    ...(options.agentId === undefined ? {} : { agentId: options.agentId }),
    hostname: options.hostname ?? hostname(),
  });

  if (!request.ok) {
    throw new EnrollError(`invalid enrollment request: ${describeIssues(request.issues)}`);
  }

  let response: Response;

  try {
    response = await fetch(enrollEndpoint(options.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request.value),
      signal: AbortSignal.timeout(ENROLL_TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (error) {
    throw new EnrollError(`cannot reach ${options.url}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const body = await readJson(response);

  if (!response.ok) {
    throw new EnrollError(describeFailure(response.status, body));
  }

  const parsed = safeParse(EnrollResponse, body);

  if (!parsed.ok) {
    throw new EnrollError(`auth-service answer is not valid: ${describeIssues(parsed.issues)}`);
  }

  if (options.agentId !== undefined && parsed.value.agentId !== options.agentId) {
    throw new EnrollError(
      `asked to enroll as ${options.agentId} but the auth-service enrolled ${parsed.value.agentId}`,
    );
  }

  const credentials: AgentCredentials = {
    ...parsed.value,
    enrolledAt: new Date().toISOString(),
    authUrl: new URL(options.url).toString().replace(/\/+$/, ''),
  };
  await writeCredentials(options.credentialsPath, credentials);

  return credentials;
}
