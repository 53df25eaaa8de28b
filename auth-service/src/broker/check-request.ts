import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
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

const BEARER = 'Bearer ';
const BASIC = 'Basic ';

/** The Bearer token of a jwt-backend request, still encoded as it arrived; else undefined. */
export function bearerOf(headers: IncomingHttpHeaders): string | undefined {
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
export function requireBrokerKey(check: BrokerKeyCheck, headers: IncomingHttpHeaders): void {
  if (!check.matches(headers.authorization)) {
    throw new BadRequest('the broker key is missing or wrong', { status: 401 });
  }
}

/** True when the header's media type is `type`, whatever parameters follow. */
export function hasMediaType(headers: IncomingHttpHeaders, type: string): boolean {
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
