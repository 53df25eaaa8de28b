/**
 * Every error the admin and public listeners answer with, and its HTTP status. The one place
 * that maps a code to a status; docs/auth-service.md lists the same table.
 */
export const API_ERROR_STATUS = {
  /** Malformed JSON, a header or path that does not decode. */
  bad_request: 400,
  /** Well-formed, but a field is missing, unknown or out of range (the message names it). */
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal_error: 500,
  /** Something the request needs is not configured or not ready. */
  unavailable: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ApiErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.code = code;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return API_ERROR_STATUS[this.code];
  }
}

/** 429 with the standard hint of when to come back. */
export function tooManyRequests(retryAfterMs: number): ApiError {
  return new ApiError('too_many_requests', 'too many requests; try again later', {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1_000))) },
  });
}
