import { createPublicKey, KeyObject, sign } from 'node:crypto';
import { compactVerify, importJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { signDetached, verifyDetached } from '../src/detached-jws.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../src/index.js';

const TYP = 'beckon-command+jws';
const payload = new TextEncoder().encode('{"kind":"command","id":"cmd-0001"}');

let ed: SigningKeyPair;
let ec: SigningKeyPair;

const publicKey = (pair: SigningKeyPair) => createPublicKey({ key: pair.publicJwk, format: 'jwk' });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  ed = await generateSigningKeyPair('EdDSA');
  ec = await generateSigningKeyPair('ES256');
});

describe('detached message signatures', () => {
  it('are compact JWS that jose verifies, for both algorithms', async () => {
    for (const pair of [ed, ec]) {
      const [header, signature] = signDetached(payload, pair.alg, TYP, pair.privateKey).split('..');
      const encoded = Buffer.from(payload).toString('base64url');
      const key = await importJWK(pair.publicJwk as JWK, pair.alg);
      const verified = await compactVerify(`${header ?? ''}.${encoded}.${signature ?? ''}`, key);

      expect(verified.protectedHeader).toEqual({ alg: pair.alg, typ: TYP });
    }
  });

  it('verify over exactly the signed bytes with the signing key', () => {
    for (const pair of [ed, ec]) {
      const jws = signDetached(payload, pair.alg, TYP, pair.privateKey);

      expect(verifyDetached(jws, payload, publicKey(pair))).toEqual({ ok: true, typ: TYP });
      expect(verifyDetached(jws, new TextEncoder().encode('{}'), publicKey(pair)).ok).toBe(false);
    }

    const other = signDetached(payload, 'ES256', TYP, ec.privateKey);

    expect(verifyDetached(other, payload, publicKey(ed)).ok).toBe(false);
  });

  it('refuse a header naming none, an HMAC, a critical extension or the wrong key type', () => {
    const good = signDetached(payload, 'EdDSA', TYP, ed.privateKey);
    const signature = good.split('..')[1] ?? '';
    const headers = [
      { alg: 'none', typ: TYP },
      { alg: 'HS256', typ: TYP },
      { alg: 'EdDSA', typ: TYP, crit: ['exp'], exp: 1 },
      { alg: 'EdDSA', typ: TYP, b64: false },
      { alg: 'ES256', typ: TYP },
      ['EdDSA'],
    ];

    for (const header of headers) {
      expect(verifyDetached(`${b64(header)}..${signature}`, payload, publicKey(ed)).ok).toBe(false);
    }
  });

  it('refuse a signature in any encoding but the one canonical form', () => {
    const jws = signDetached(payload, 'EdDSA', TYP, ed.privateKey);
    const [header = '', signature = ''] = jws.split('..');
    const raw = Buffer.from(signature, 'base64url');

    for (const variant of [
      `${signature}==`,
      raw.toString('base64'),
      signature.slice(0, -2),
      `${signature}AA`,
    ]) {
      expect(verifyDetached(`${header}..${variant}`, payload, publicKey(ed)).ok).toBe(false);
    }

    expect(verifyDetached(`${header}.x.${signature}`, payload, publicKey(ed)).ok).toBe(false);
  });

  it('refuse to sign with a key that does not fit the algorithm', () => {
    expect(() => signDetached(payload, 'ES256', TYP, ed.privateKey)).toThrow(TypeError);
    expect(() => signDetached(payload, 'EdDSA', TYP, KeyObject.from(ec.privateKey))).toThrow(
      TypeError,
    );
  });

  it('verify a signature made by node:crypto directly (the same bytes jose would sign)', () => {
    const header = b64({ alg: 'EdDSA', typ: TYP });
    const input = Buffer.from(`${header}.${Buffer.from(payload).toString('base64url')}`);
    const signature = sign(null, input, KeyObject.from(ed.privateKey)).toString('base64url');

    expect(verifyDetached(`${header}..${signature}`, payload, publicKey(ed)).ok).toBe(true);
  });
});
