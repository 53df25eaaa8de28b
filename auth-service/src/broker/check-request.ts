import { timingSafeEqual } from 'node:crypto';
import type { CheckAccess } from '../decide/decision.js';
import type { BrokerBackend, BrokerEndpoint } from '../metrics/broker-metrics.js';
import { BadRequest } from './bad-request.js';

/**
 * One broker question, whichever plugin and backend asked it. The adapters fill it in; the
 * one decision path answers it.
 */
export interface CheckRequest {
  readonly backend: BrokerBackend;
  readonly endpoint: BrokerEndpoint;
  /** The MQTT username (http backends); empty for jwt backends until the token is verified. */
  readonly username: string;
  /** The MQTT password, on the getuser request of an http backend only. */
  readonly password: string;
  /** The broker JWT (jwt backends). */
  readonly token: string;
  /** The topic or subscription filter of an ACL check. */
  readonly topic: string;
  readonly access: CheckAccess | undefined;
}

/**
 * The request headers the adapters read (node:http's `IncomingHttpHeaders` is one; the lean
 * broker listener keeps only these).
 */
export interface CheckHeaders {
  readonly authorization?: string | undefined;
  readonly 'content-type'?: string | undefined;
}

const BEARER = 'Bearer ';
const BASIC = 'Basic ';

/** The Bearer token of a jwt-backend request, still encoded as it arrived; else undefined. */
export function bearerOf(headers: CheckHeaders): string | undefined {
  const value = headers.authorization;

  return value?.startsWith(BEARER) === true ? value.slice(BEARER.length) : undefined;
}

/** Compares the Authorization header with `Basic <key>` in constant time. */
export class BrokerKeyCheck {
  readonly #expected: Buffer;

  constructor(key: string) {
    this.#expected = Buffer.from(`${BASIC}${key}`, 'latin1');
  }

  matches(authorization: string | undefined): boolean {
    if (authorization === undefined) {
      return false;
    }

    const given = Buffer.from(authorization, 'latin1');

    // The length of the key is not the secret; its bytes are.
    return given.length === this.#expected.length && timingSafeEqual(given, this.#expected);
  }
}

/** Refuses a request whose broker key is missing or wrong: 401, a deny to the broker. */
export function requireBrokerKey(check: BrokerKeyCheck, headers: CheckHeaders): void {
  if (!check.matches(headers.authorization)) {
    throw new BadRequest('the broker key is missing or wrong', { status: 401 });
  }
}

/** True when the header's media type is `type`, whatever parameters follow. */
export function hasMediaType(headers: CheckHeaders, type: string): boolean {
  const value = headers['content-type'];

  if (value === undefined) {
    return false;
  }

  if (value === type) {
    return true;
  }

  const end = value.indexOf(';');
  const media = (end === -1 ? value : value.slice(0, end)).trim().toLowerCase();

  return media === type;
}

export function basicCredentials(username: string, password: string): string {
  return `${BASIC}${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = '='.charCodeAt(0);
const COLON = ':'.charCodeAt(0);
const FIRST_NON_ASCII = 0x80;

function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    if (text.charCodeAt(index) >= FIRST_NON_ASCII) {
      return false;
    }
  }

  return true;
}

/**
 * Whether `header` is exactly basicCredentials(username, password). Every request of the plug's
 * http backend without a broker key asks this; for ASCII credentials (principal ids, generated
 * secrets) it encodes while comparing instead of building a buffer and two strings.
 */
export function carriesBasicCredentials(
  header: string | undefined,
  username: string,
  password: string,
): boolean {
  if (header === undefined) {
    return false;
  }

  if (!isAscii(username) || !isAscii(password)) {
    return header === basicCredentials(username, password);
  }

  const total = username.length + 1 + password.length;

  if (header.length !== BASIC.length + Math.ceil(total / 3) * 4 || !header.startsWith(BASIC)) {
    return false;
  }

  const byteAt = (index: number): number => {
    if (index < username.length) {
      return username.charCodeAt(index);
    }

    return index === username.length ? COLON : password.charCodeAt(index - username.length - 1);
  };

  for (let index = 0; index < total; index += 3) {
    const group =
      (byteAt(index) << 16) |
      (index + 1 < total ? byteAt(index + 1) << 8 : 0) |
      (index + 2 < total ? byteAt(index + 2) : 0);
    const at = BASIC.length + (index / 3) * 4;
    const third = index + 1 < total ? BASE64_ALPHABET.charCodeAt((group >> 6) & 63) : PAD;
    const fourth = index + 2 < total ? BASE64_ALPHABET.charCodeAt(group & 63) : PAD;

    if (
      header.charCodeAt(at) !== BASE64_ALPHABET.charCodeAt((group >> 18) & 63) ||
      header.charCodeAt(at + 1) !== BASE64_ALPHABET.charCodeAt((group >> 12) & 63) ||
      header.charCodeAt(at + 2) !== third ||
      header.charCodeAt(at + 3) !== fourth
    ) {
      return false;
    }
  }

  return true;
}
