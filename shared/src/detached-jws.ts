import { KeyObject, sign, verify, type webcrypto } from 'node:crypto';

// Detached compact JWS (RFC 7515, appendix F) over a command or cancel, made and checked with
// node:crypto's one-shot sign and verify. Going through jose and WebCrypto cost about ten
// times as much per message (an async job, a key check and a copy each time) on the hot path
// of every command; the format is the same, so either side can still be checked with jose.

/** The algorithms a message signature may use, each with its key type. */
const KEY_TYPES = { EdDSA: 'ed25519', ES256: 'ec' } as const;

export type JwsAlgorithm = keyof typeof KEY_TYPES;

/** An Ed25519 signature, and a P-256 one as r || s (JWS form), are both 64 bytes. */
const SIGNATURE_BYTES = 64;
const P256_CURVE = 'prime256v1';

type CryptoKey = webcrypto.CryptoKey;

const privateKeys = new WeakMap<CryptoKey, KeyObject>();

function asKeyObject(key: CryptoKey | KeyObject): KeyObject {
  if (key instanceof KeyObject) {
    return key;
  }

  let converted = privateKeys.get(key);

  if (converted === undefined) {
    converted = KeyObject.from(key);
    privateKeys.set(key, converted);
  }

  return converted;
}

/** True when `key` is the kind of key `alg` signs with (Ed25519, or EC on P-256). */
export function keyFitsAlgorithm(key: KeyObject, alg: JwsAlgorithm): boolean {
  if (key.asymmetricKeyType !== KEY_TYPES[alg]) {
    return false;
  }

  return alg !== 'ES256' || key.asymmetricKeyDetails?.namedCurve === P256_CURVE;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function signingInput(encodedHeader: string, payload: Uint8Array): Buffer {
  // A view, not a copy: this runs for every command signed and verified.
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);

  return Buffer.from(`${encodedHeader}.${bytes.toString('base64url')}`, 'ascii');
}

/** Signs `payload` and returns `header..signature` (the payload travels separately). */
export function signDetached(
  payload: Uint8Array,
  alg: JwsAlgorithm,
  typ: string,
  privateKey: CryptoKey | KeyObject,
): string {
  const key = asKeyObject(privateKey);

  if (!keyFitsAlgorithm(key, alg)) {
    throw new TypeError(`the private key cannot sign with ${alg}`);
  }

  const header = base64url(JSON.stringify({ alg, typ }));
  const signature = sign(alg === 'EdDSA' ? null : 'sha256', signingInput(header, payload), {
    key,
    dsaEncoding: 'ieee-p1363',
  });

  return `${header}..${signature.toString('base64url')}`;
}

export type DetachedCheck =
  { readonly ok: true; readonly typ: unknown } | { readonly ok: false; readonly reason: string };

function decodeHeader(encoded: string): Record<string, unknown> | undefined {
  try {
    const header: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));

    return header !== null && typeof header === 'object' && !Array.isArray(header)
      ? (header as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a detached JWS over `payload` against a public key: the header must name an allowed
 * algorithm that fits the key and no critical extension, and the signature must verify.
 * Returns the header's `typ` for the caller to check. Never throws.
 */
export function verifyDetached(jws: string, payload: Uint8Array, key: KeyObject): DetachedCheck {
  const parts = jws.split('..');
  const [encodedHeader = '', encodedSignature = ''] = parts;
  const header = parts.length === 2 ? decodeHeader(encodedHeader) : undefined;

  if (header === undefined) {
    return { ok: false, reason: 'the signature header is not a JSON object' };
  }

  const { alg } = header;

  if (alg !== 'EdDSA' && alg !== 'ES256') {
    return { ok: false, reason: 'the signature uses an algorithm that is not allowed' };
  }

  // No extension is understood here, so one marked critical must be refused (RFC 7515 4.1.11);
  // b64 (RFC 7797) would change what was signed.
  if (header['crit'] !== undefined || header['b64'] !== undefined) {
    return { ok: false, reason: 'the signature header asks for an extension' };
  }

  if (!keyFitsAlgorithm(key, alg)) {
    return { ok: false, reason: 'the signature algorithm does not fit the certified key' };
  }

  const signature = Buffer.from(encodedSignature, 'base64url');

  // Only the one canonical encoding of the exact length: no padding, no stray bits.
  if (
    signature.length !== SIGNATURE_BYTES ||
    signature.toString('base64url') !== encodedSignature
  ) {
    return { ok: false, reason: 'the signature is malformed' };
  }

  try {
    const valid = verify(
      alg === 'EdDSA' ? null : 'sha256',
      signingInput(encodedHeader, payload),
      { key, dsaEncoding: 'ieee-p1363' },
      signature,
    );

    return valid ? { ok: true, typ: header['typ'] } : { ok: false, reason: 'no match' };
  } catch {
    return { ok: false, reason: 'the signature could not be checked' };
  }
}
