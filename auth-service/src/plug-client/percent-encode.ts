import { isUnreserved } from '../http/unreserved.js';

// mosquitto-auth-plug encodes values byte-wise (libcurl's curl_easy_escape): every byte of the
// UTF-8 text outside `A-Z a-z 0-9 - . _ ~` becomes `%XX` in upper-case hex; a space is `%20`.

const HEX = '0123456789ABCDEF';

export function percentEncode(value: string): string {
  let encoded = '';

  for (const byte of Buffer.from(value, 'utf8')) {
    encoded += isUnreserved(byte)
      ? String.fromCharCode(byte)
      : `%${HEX[byte >> 4] ?? '0'}${HEX[byte & 0x0f] ?? '0'}`;
  }

  return encoded;
}
