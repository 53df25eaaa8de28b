import { ApiErrorBody } from '@beckon/shared';

/** How long the CLI waits for the admin API. */
const REQUEST_TIMEOUT_MS = 15_000;

/** The admin API refused or failed: exit code 1 with its message. */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export interface AdminClient {
  request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<unknown>;
}

/** Talks to the admin listener with a bearer token. */
export function createAdminClient(baseUrl: string, token: string): AdminClient {
  return {
    async request(method, path, body) {
      let response: Response;

      try {
        response = await fetch(new URL(path, baseUrl), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (error) {
        throw new AdminApiError(0, 'unreachable', `cannot reach the admin API at ${baseUrl}`, {
          cause: error,
        });
      }

      const text = await response.text();
      let parsed: unknown;

      try {
        parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        throw new AdminApiError(response.status, 'bad_response', 'the admin API answered non-JSON');
      }

      if (!response.ok) {
        const error = ApiErrorBody.safeParse(parsed);

        throw error.success
          ? new AdminApiError(response.status, error.data.error.code, error.data.error.message)
          : new AdminApiError(response.status, 'http_error', `HTTP ${response.status}`);
      }

      return parsed;
    },
  };
}
