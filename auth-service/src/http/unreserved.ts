/**
 * RFC 3986's unreserved bytes, `A-Z a-z 0-9 - . _ ~`: the ones both auth plugins send as they
 * are in a form body. The broker listener's parser and PlugClient's encoder must agree on this
 * set, so they share it.
 */
export function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) ||
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e
  );
}

// The same set as isUnreserved, for whole strings. A regular expression because V8 runs a
// character class natively: about 0.7 µs over a 700-byte broker token against 3 µs for a
// charCodeAt loop, paid on every jwt-backend request. A test holds the two equal.
const UNRESERVED_TEXT = /^[A-Za-z0-9\-._~]*$/;

/** Whether every character of `value` is unreserved (the empty string is). */
export function isUnreservedText(value: string): boolean {
  return UNRESERVED_TEXT.test(value);
}
