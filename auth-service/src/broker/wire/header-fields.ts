import { BadRequest } from '../bad-request.js';
import type { CheckHeaders } from '../check-request.js';
import { isToken } from './request-line.js';

// The header fields of a broker-check request, read strictly: every line `name: value` with a
// token name, no obs-fold, no control bytes. Only the fields the checks and the framing need
// are kept; a repeated one of those is refused (two Content-Lengths are request smuggling, two
// Authorizations a request no plugin sends).

export interface RequestFields {
  /** What the plug and go-auth adapters read. */
  readonly headers: CheckHeaders;
  readonly contentLength: string | undefined;
  readonly transferEncoding: string | undefined;
  readonly connection: string | undefined;
  readonly expect: string | undefined;
}

const HTAB = 0x09;
const SPACE = 0x20;
const CONTENT_LENGTH = /^\d{1,10}$/;
const CONTINUE = '100-continue';

const KEPT = [
  'authorization',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'expect',
] as const;

// By length first: most header names are not kept and are never lower-cased.
const KEPT_BY_LENGTH: ReadonlyMap<number, number> = new Map(
  KEPT.map((name, index) => [name.length, index]),
);

function isWhitespace(code: number): boolean {
  return code === SPACE || code === HTAB;
}

// field-vchar, SP and HTAB; obs-text is kept as latin1, as node:http does. Sticky, so it runs
// over a range of the head in place. A regular expression because V8 runs a character class
// natively: a charCodeAt loop took about 1 µs per 700-byte bearer token, on every jwt request.
const VALUE_TEXT = /[\t\x20-\x7e\x80-\xff]*/y;

function isValueText(text: string, from: number, to: number): boolean {
  VALUE_TEXT.lastIndex = from;
  // Always matches (perhaps nothing); it stops at the first byte outside the class, which for
  // a well-formed line is the CR that ends it, past `to`.
  VALUE_TEXT.test(text);

  return VALUE_TEXT.lastIndex >= to;
}

/**
 * Reads the header lines of `head` from `from` (just after the request line's CRLF) to its end
 * (the head without its final blank line).
 */
export function parseHeaderFields(head: string, from: number): RequestFields | BadRequest {
  // One slot per kept name, in KEPT's order: no map per request.
  const kept: (string | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];
  let at = from;

  while (at < head.length) {
    const found = head.indexOf('\r\n', at);
    const end = found === -1 ? head.length : found;
    const colon = head.indexOf(':', at);

    // A line starting with whitespace (obs-fold) or a space before the colon fails here too.
    if (colon === -1 || colon >= end || !isToken(head, at, colon)) {
      return new BadRequest('a header line is not "name: value"');
    }

    let start = colon + 1;
    let stop = end;

    while (start < stop && isWhitespace(head.charCodeAt(start))) {
      start += 1;
    }

    while (stop > start && isWhitespace(head.charCodeAt(stop - 1))) {
      stop -= 1;
    }

    // A CR or LF left inside a line is a bare one: refused, never taken as a line break.
    if (!isValueText(head, start, stop)) {
      return new BadRequest('a header value holds a control byte');
    }

    const slot = KEPT_BY_LENGTH.get(colon - at);
    const name = slot === undefined ? undefined : KEPT[slot];

    if (slot !== undefined && head.slice(at, colon).toLowerCase() === name) {
      if (kept[slot] !== undefined) {
        return new BadRequest(`the ${name} header appears twice`);
      }

      kept[slot] = head.slice(start, stop);
    }

    at = end + 2;
  }

  const [authorization, contentType, contentLength, transferEncoding, connection, expect] = kept;

  return {
    headers: { authorization, 'content-type': contentType },
    contentLength,
    transferEncoding,
    connection,
    expect,
  };
}

/**
 * How many body bytes follow the head. Only Content-Length frames a body here: the plug and
 * Go's client always send it for a body, so chunked and other codings are refused with 411.
 */
export function bodyLength(
  method: string,
  fields: RequestFields,
  maxBodyBytes: number,
): number | BadRequest {
  const { contentLength, transferEncoding } = fields;

  if (transferEncoding !== undefined) {
    return contentLength === undefined
      ? new BadRequest('Transfer-Encoding is not supported: send Content-Length', { status: 411 })
      : new BadRequest('Content-Length and Transfer-Encoding together');
  }

  if (contentLength === undefined) {
    // A GET without a length has no body (go-auth's jwt getuser); a POST or PUT must say.
    return method === 'GET' ? 0 : new BadRequest('a body needs a Content-Length', { status: 411 });
  }

  if (!CONTENT_LENGTH.test(contentLength)) {
    return new BadRequest('Content-Length is not a number');
  }

  const length = Number(contentLength);

  return length > maxBodyBytes
    ? new BadRequest(`the body is larger than ${maxBodyBytes} bytes`, { status: 413 })
    : length;
}

/** HTTP/1.1 keeps the connection unless asked to close it; HTTP/1.0 only when asked to keep it. */
export function keepsAlive(connection: string | undefined, http10: boolean): boolean {
  if (connection === undefined) {
    return !http10;
  }

  const options = connection
    .toLowerCase()
    .split(',')
    .map((option) => option.trim());

  if (options.includes('close')) {
    return false;
  }

  return !http10 || options.includes('keep-alive');
}

/** Whether the client waits for `100 Continue`; an expectation we cannot meet is a 417. */
export function expectsContinue(fields: RequestFields): boolean | BadRequest {
  if (fields.expect === undefined) {
    return false;
  }

  return fields.expect.toLowerCase() === CONTINUE
    ? true
    : new BadRequest('only "Expect: 100-continue" is understood', { status: 417 });
}
