import { isUnreserved, isUnreservedText } from '../http/unreserved.js';
import { BadRequest } from './bad-request.js';

// A strict parser for `application/x-www-form-urlencoded` bodies as the auth plugins write them.
// mosquitto-auth-plug percent-encodes every byte outside `A-Z a-z 0-9 - . _ ~` (a space is `%20`)
// and writes `clientid` raw as the last field; Go's url.Values (mosquitto-go-auth's form mode)
// encodes the same set but writes a space as `+`. Anything else is refused, never guessed at.

const MAX_FIELDS = 32;
const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PERCENT = 0x25;
const PLUS = 0x2b;
const SPACE = 0x20;
const TILDE = 0x7e;
const FIRST_NON_ASCII = 0x80;

export interface FormSyntax {
  /** Go's encoding: `+` is a space. The plug never writes a raw `+`, so there it is refused. */
  readonly plusIsSpace: boolean;
  /** A field written raw up to the end of the body (the plug's `clientid`). */
  readonly rawTailField?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(byte: number | undefined): number {
  if (byte === undefined) {
    return -1;
  }

  if (byte >= 0x30 && byte <= 0x39) {
    return byte - 0x30;
  }

  if (byte >= 0x41 && byte <= 0x46) {
    return byte - 0x37;
  }

  return byte >= 0x61 && byte <= 0x66 ? byte - 0x57 : -1;
}

function isFieldNameByte(byte: number): boolean {
  return isUnreserved(byte) && byte !== TILDE;
}

/**
 * Reads every field of a form body into a map. Throws BadRequest for a malformed body, a
 * duplicated field, bytes outside the plugin's encoding or values that are not UTF-8.
 */
export function parseForm(body: Buffer, syntax: FormSyntax): Map<string, string> {
  const fields = new Map<string, string>();

  if (body.length === 0) {
    return fields;
  }

  let position = 0;

  while (position <= body.length) {
    if (fields.size === MAX_FIELDS) {
      throw new BadRequest('too many form fields');
    }

    const name = readName(body, position);
    position += name.length + 1;

    if (fields.has(name)) {
      throw new BadRequest(`form field "${name}" appears twice`);
    }

    if (name === syntax.rawTailField) {
      fields.set(name, readRawTail(body, position));

      return fields;
    }

    const end = valueEnd(body, position);
    fields.set(name, decodeValue(body, position, end, syntax.plusIsSpace, name));
    position = end + 1;

    if (end === body.length) {
      return fields;
    }
  }

  return fields;
}

// The names every plugin request carries, as shared strings: matching bytes against them
// spares the hot path five small allocations per request. The match is a byte loop in
// JavaScript: Buffer#compare is a native call with argument checks, and five of those per
// field cost more than the strings they saved.
const KNOWN_NAMES = ['username', 'password', 'topic', 'acc', 'clientid'];

function sameBytes(body: Buffer, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) {
    return false;
  }

  for (let index = 0; index < name.length; index += 1) {
    if (body[start + index] !== name.charCodeAt(index)) {
      return false;
    }
  }

  return true;
}

function readName(body: Buffer, start: number): string {
  let index = start;

  while (index < body.length && isFieldNameByte(body[index] ?? 0)) {
    index += 1;
  }

  if (index === start || body[index] !== EQUALS) {
    throw new BadRequest('form body is not a list of name=value fields');
  }

  for (const name of KNOWN_NAMES) {
    if (sameBytes(body, start, index, name)) {
      return name;
    }
  }

  return body.toString('latin1', start, index);
}

function valueEnd(body: Buffer, start: number): number {
  const end = body.indexOf(AMPERSAND, start);

  return end === -1 ? body.length : end;
}

// The plug's clientid is raw and in practice empty or `client id not available`; it is never
// used, so it only has to be printable ASCII.
function readRawTail(body: Buffer, start: number): string {
  for (let index = start; index < body.length; index += 1) {
    const byte = body[index] ?? 0;

    if (byte < SPACE || byte > TILDE) {
      throw new BadRequest('the raw clientid field has a non-printable byte');
    }
  }

  return body.toString('latin1', start);
}

function decodeValue(
  body: Buffer,
  start: number,
  end: number,
  plusIsSpace: boolean,
  name: string,
): string {
  let plain = true;

  for (let index = start; index < end; index += 1) {
    const byte = body[index] ?? 0;

    if (isUnreserved(byte)) {
      continue;
    }

    if (byte === PERCENT || (byte === PLUS && plusIsSpace)) {
      plain = false;
      continue;
    }

    throw new BadRequest(`form field "${name}" has a byte the plugin would have encoded`);
  }

  // Most values (usernames, acc, simple topics) need no decoding at all.
  if (plain) {
    return body.toString('latin1', start, end);
  }

  const decoded = scratchFor(end - start);
  let length = 0;
  let ascii = true;

  for (let index = start; index < end; index += 1) {
    const byte = body[index] ?? 0;
    let value: number;

    if (byte === PERCENT) {
      const high = hexValue(body[index + 1]);
      const low = hexValue(body[index + 2]);

      if (index + 2 >= end || high < 0 || low < 0) {
        throw new BadRequest(`form field "${name}" has a broken percent escape`);
      }

      value = high * 16 + low;
      index += 2;
    } else {
      value = byte === PLUS ? SPACE : byte;
    }

    decoded[length] = value;
    ascii &&= value < FIRST_NON_ASCII;
    length += 1;
  }

  // ASCII is valid UTF-8 as it is (a percent-encoded topic usually is ASCII): a latin1 slice is
  // the same string without the decoder's validation pass.
  if (ascii) {
    return decoded.toString('latin1', 0, length);
  }

  try {
    return utf8.decode(decoded.subarray(0, length));
  } catch (error) {
    throw new BadRequest(`form field "${name}" is not valid UTF-8`, { cause: error });
  }
}

// One buffer reused for every decoded value: decoding is synchronous and the string is copied
// out before the next value starts, so no two values ever share it at once.
let scratch = Buffer.allocUnsafe(1_024);

function scratchFor(bytes: number): Buffer {
  if (scratch.length < bytes) {
    scratch = Buffer.allocUnsafe(bytes);
  }

  return scratch;
}

/**
 * Decodes a percent-encoded token (the plug encodes the Bearer value like a body value). Throws
 * BadRequest for anything outside the plug's encoding.
 */
export function decodePercent(value: string, what: string): string {
  // A JWT is unreserved characters only: nothing to decode, so it is used as it came, without
  // copying its ~700 bytes into a buffer and back on every jwt-backend request.
  if (isUnreservedText(value)) {
    return value;
  }

  return decodeValue(Buffer.from(value, 'latin1'), 0, value.length, false, what);
}
