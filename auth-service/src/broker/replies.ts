import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

// The answers the broker reads. mosquitto-auth-plug only looks at the status code (2xx yes,
// 5xx error, anything else no); mosquitto-go-auth also reads the body in its `json` and `text`
// response modes, so the go-auth answers carry both and work whatever the mode. An answer is
// plain data here; node:http (`writeAnswer`) and the lean broker listener (`wire/`) put it on
// the wire.

export type ResponseMode = 'status' | 'json' | 'text';

export const ALLOWED = 200;
export const DENIED = 403;
export const FAULT = 500;

/** One answer to the broker, whichever listener carries it. */
export interface CheckAnswer {
  readonly status: number;
  /** The go-auth `json` or `text` body; empty for a status-only answer. */
  readonly body: string;
  readonly contentType: string | undefined;
  /** The methods a 405 names in `Allow`. */
  readonly allow: string | undefined;
  /**
   * The connection goes after this answer: after a refused request the rest of what the peer
   * sent is not worth reading.
   */
  readonly close: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const GO_AUTH_ALLOWED = { json: '{"ok":true,"error":""}', text: 'ok' } as const;
/** What a go-auth deny says; the only deny message on the hot path, so its answers are kept. */
export const NOT_AUTHORISED = 'not authorised';

// Status-only answers are few (a status and a flag): each is made once and shared.
const statusAnswers = new Map<number, CheckAnswer>();

/** A status-only answer, shared between requests (it is frozen). */
export function statusAnswer(status: number, close = false, allow?: string): CheckAnswer {
  if (allow !== undefined) {
    return Object.freeze({ status, body: '', contentType: undefined, allow, close });
  }

  const key = close ? -status : status;
  let answer = statusAnswers.get(key);

  if (answer === undefined) {
    answer = Object.freeze({ status, body: '', contentType: undefined, allow: undefined, close });
    statusAnswers.set(key, answer);
  }

  return answer;
}

const goAuthAnswers = new Map<string, CheckAnswer>();

/** A go-auth answer in its configured response mode; `message` says why a no is a no. */
export function goAuthAnswer(
  mode: ResponseMode,
  status: number,
  message: string,
  close = false,
): CheckAnswer {
  if (mode === 'status') {
    return statusAnswer(status, close);
  }

  const allowed = status === ALLOWED;
  // Allowed and plain denied answers are built once; a refusal's message varies with the input.
  const key = allowed || message === NOT_AUTHORISED ? `${mode} ${status} ${close}` : undefined;
  const kept = key === undefined ? undefined : goAuthAnswers.get(key);

  if (kept !== undefined) {
    return kept;
  }

  const body =
    mode === 'json'
      ? allowed
        ? GO_AUTH_ALLOWED.json
        : JSON.stringify({ ok: false, error: message })
      : allowed
        ? GO_AUTH_ALLOWED.text
        : message;
  const contentType = mode === 'json' ? JSON_TYPE : TEXT_TYPE;
  const answer = Object.freeze({ status, body, contentType, allow: undefined, close });

  if (key !== undefined) {
    goAuthAnswers.set(key, answer);
  }

  return answer;
}

/** Writes an answer through node:http (the listener's fallback and the embedded handler). */
export function writeAnswer(response: ServerResponse, answer: CheckAnswer): void {
  const headers: OutgoingHttpHeaders = {
    'content-length': Buffer.byteLength(answer.body).toString(),
  };

  if (answer.contentType !== undefined) {
    headers['content-type'] = answer.contentType;
  }

  if (answer.allow !== undefined) {
    headers.allow = answer.allow;
  }

  if (answer.close) {
    headers.connection = 'close';
  }

  response.writeHead(answer.status, headers);
  response.end(answer.body);
}
