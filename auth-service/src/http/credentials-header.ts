import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';

const MAX_HEADER_CREDENTIAL_LENGTH = 4_096;

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="beckon", charset="UTF-8"' };

/** An id and secret as HTTP Basic auth; 401 when missing, 400 when it does not decode. */
export function basicCredentials(req: IncomingMessage): BasicCredentials {
  const header = req.headers.authorization;

  if (header === undefined) {
    throw new ApiError('unauthorized', 'credentials required', { headers: BASIC_CHALLENGE });
  }

  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header);

  if (match === null || header.length > MAX_HEADER_CREDENTIAL_LENGTH) {
    throw new ApiError('bad_request', 'authorization header is not valid Basic auth');
  }

  let decoded: string;

  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(
      Buffer.from(match[1] ?? '', 'base64'),
    );
  } catch (error) {
    throw new ApiError('bad_request', 'basic credentials are not valid UTF-8', { cause: error });
  }

  const colon = decoded.indexOf(':');

  if (colon < 1) {
    throw new ApiError('bad_request', 'basic credentials must be "id:secret"');
  }

  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function unauthorizedBasic(): ApiError {
  return new ApiError('unauthorized', 'invalid credentials', { headers: BASIC_CHALLENGE });
}

/** A bearer token; 401 when missing, 400 when the header is malformed. */
export function bearerToken(req: IncomingMessage): string {
  const header = req.headers.authorization;

  if (header === undefined) {
    throw new ApiError('unauthorized', 'bearer token required', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }

  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header);

  if (match === null || header.length > MAX_HEADER_CREDENTIAL_LENGTH) {
    throw new ApiError('bad_request', 'authorization header is not a valid bearer token');
  }

  return match[1] ?? '';
}
