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
