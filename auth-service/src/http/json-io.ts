import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';

/** The largest request body any JSON endpoint accepts; every Beckon body is far smaller. */
export const MAX_BODY_BYTES = 64 * 1_024;

/** Reads and parses a JSON body; an empty body reads as undefined. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = req.headers['content-length'];

  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) {
    throw new ApiError('payload_too_large', `body is larger than ${MAX_BODY_BYTES} bytes`);
  }

  const chunks: Buffer[] = [];
  let size = 0;

  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;

    if (size > MAX_BODY_BYTES) {
      throw new ApiError('payload_too_large', `body is larger than ${MAX_BODY_BYTES} bytes`);
    }

    chunks.push(chunk);
  }

  if (size === 0) {
    return undefined;
  }

  const type = req.headers['content-type'] ?? '';

  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError('unsupported_media_type', 'body must be application/json');
  }

  let text: string;

  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (error) {
    throw new ApiError('bad_request', 'body is not valid UTF-8', { cause: error });
  }

  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ApiError('bad_request', 'body is not valid JSON', { cause: error });
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);

  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(
    res,
    error.status,
    { error: { code: error.code, message: error.message } },
    error.headers,
  );
}
