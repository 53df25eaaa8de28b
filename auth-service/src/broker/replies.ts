import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

// The answers the broker reads. mosquitto-auth-plug only looks at the status code (2xx yes,
// 5xx error, anything else no); mosquitto-go-auth also reads the body in its `json` and `text`
// response modes, so the go-auth answers carry both and work whatever the mode.

export type ResponseMode = 'status' | 'json' | 'text';

export const ALLOWED = 200;
export const DENIED = 403;
export const FAULT = 500;

const EMPTY_HEADERS: OutgoingHttpHeaders = { 'content-length': '0' };
const CLOSING_HEADERS: OutgoingHttpHeaders = { 'content-length': '0', connection: 'close' };
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const GO_AUTH_ALLOWED = { json: '{"ok":true,"error":""}', text: 'ok' } as const;

/**
 * A status-only answer. `close` after an error while reading the body: the rest of a refused
 * body is not worth reading, so the connection goes instead.
 */
export function replyStatus(response: ServerResponse, status: number, close = false): void {
  response.writeHead(status, close ? CLOSING_HEADERS : EMPTY_HEADERS);
  response.end();
}

/** A go-auth answer in its configured response mode; `message` says why a no is a no. */
export function replyGoAuth(
  response: ServerResponse,
  mode: ResponseMode,
  status: number,
  message: string,
  close = false,
): void {
  if (mode === 'status') {
    replyStatus(response, status, close);

    return;
  }

  const allowed = status === ALLOWED;
  const body =
    mode === 'json'
      ? allowed
        ? GO_AUTH_ALLOWED.json
        : JSON.stringify({ ok: false, error: message })
      : allowed
        ? GO_AUTH_ALLOWED.text
        : message;

  response.writeHead(status, {
    'content-type': mode === 'json' ? JSON_TYPE : TEXT_TYPE,
    'content-length': Buffer.byteLength(body).toString(),
    ...(close ? { connection: 'close' } : {}),
  });
  response.end(body);
}
