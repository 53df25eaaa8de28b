// The request line of the lean broker listener: `METHOD SP target SP HTTP/1.x`, read strictly.
// The plugins send nothing else; anything looser is refused rather than guessed at.

export interface RequestLine {
  readonly method: string;
  /** origin-form as sent (path and any query), visible ASCII. */
  readonly target: string;
  /** HTTP/1.0: the connection closes after the answer unless the request asks to keep it. */
  readonly http10: boolean;
}

/** Why a request head cannot be read at all: the connection gets this status and closes. */
export interface HeadRefusal {
  readonly status: 400 | 431 | 505;
  readonly problem: string;
}

const FIRST_VISIBLE = 0x21;
const LAST_VISIBLE = 0x7e;
/** No method the plugins use is longer; a longer token is not a method we answer. */
const MAX_METHOD_LENGTH = 16;
const HTTP_11 = 'HTTP/1.1';
const HTTP_10 = 'HTTP/1.0';
const OTHER_VERSION = /^HTTP\/\d\.\d$/;

// RFC 9110 tchar: the bytes a method or a header name may use.
const TOKEN = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN[char.charCodeAt(0)] = 1;
}

/** Whether `text[from, to)` is a non-empty token (a method or a header name). */
export function isToken(text: string, from: number, to: number): boolean {
  if (to <= from) {
    return false;
  }

  for (let index = from; index < to; index += 1) {
    if (TOKEN[text.charCodeAt(index)] !== 1) {
      return false;
    }
  }

  return true;
}

function isVisible(text: string, from: number, to: number): boolean {
  for (let index = from; index < to; index += 1) {
    const code = text.charCodeAt(index);

    if (code < FIRST_VISIBLE || code > LAST_VISIBLE) {
      return false;
    }
  }

  return true;
}

const malformed = (problem: string): HeadRefusal => ({ status: 400, problem });

/** Reads `head[0, end)` as a request line (the head is latin1-decoded bytes). */
export function parseRequestLine(head: string, end: number): RequestLine | HeadRefusal {
  const first = head.indexOf(' ');
  const second = first === -1 ? -1 : head.indexOf(' ', first + 1);

  if (first <= 0 || second === -1 || second >= end) {
    return malformed('the request line is not "METHOD target version"');
  }

  if (first > MAX_METHOD_LENGTH || !isToken(head, 0, first)) {
    return malformed('the method is not a token');
  }

  if (second === first + 1 || !isVisible(head, first + 1, second)) {
    return malformed('the request target is empty or not visible ASCII');
  }

  const version = head.slice(second + 1, end);

  if (version !== HTTP_11 && version !== HTTP_10) {
    return OTHER_VERSION.test(version)
      ? { status: 505, problem: 'only HTTP/1.1 and HTTP/1.0 are spoken here' }
      : malformed('the request line does not end in an HTTP version');
  }

  return {
    method: head.slice(0, first),
    target: head.slice(first + 1, second),
    http10: version === HTTP_10,
  };
}
