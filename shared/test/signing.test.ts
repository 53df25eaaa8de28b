import { base64url, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalJson,
  CREDENTIAL_TYPE,
  generateSigningKeyPair,
  issueCredential,
  signMessage,
  verifyMessage,
  type Command,
  type SigningKeyPair,
  type TrustRoot,
  type Unsigned,
} from '../src/index.js';
import { validCommand } from './fixtures.js';

const ISSUER = 'https://auth.beckon.test';

let root: SigningKeyPair;
let app: SigningKeyPair;
let trustRoot: TrustRoot;

function unsignedCommand(overrides: Partial<Command> = {}): Unsigned<Command> {
  const now = Date.now();

  return {
    ...validCommand(),
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 60_000).toISOString(),
    ...overrides,
  };
}

async function credentialFor(
  grants: { agents?: string[]; groups?: string[]; actions?: string[] }[],
) {
  return issueCredential(
    { privateKey: root.privateKey, alg: root.alg, kid: 'root-1' },
    { issuer: ISSUER, appId: 'deployer', publicJwk: app.publicJwk, grants, ttlSeconds: 600 },
  );
}

const check = () => ({ trustRoot, agentId: 'web-01', agentGroups: ['web'] });

beforeAll(async () => {
  root = await generateSigningKeyPair('EdDSA');
  app = await generateSigningKeyPair('ES256');
  trustRoot = { issuer: ISSUER, keys: [{ ...root.publicJwk, kid: 'root-1' }] };
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves out undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"y":null,"z":1}]},"b":1}',
    );
  });
});

describe('signed commands', () => {
  it('verifies a command signed by a certified app with a covering grant', async () => {
    const credential = await credentialFor([{ agents: ['web-01'] }]);
    const signed = await signMessage<Command>(unsignedCommand(), {
      privateKey: app.privateKey,
      alg: app.alg,
      credential,
    });
    const verified = await verifyMessage(signed, check());

    expect(verified.ok).toBe(true);
  });

  it('accepts a grant by group limited to the action', async () => {
    const credential = await credentialFor([{ groups: ['web'], actions: ['restart-service'] }]);
    const signed = await signMessage<Command>(unsignedCommand(), {
      privateKey: app.privateKey,
      alg: app.alg,
      credential,
    });

    expect((await verifyMessage(signed, check())).ok).toBe(true);
  });

  it('refuses a command without a signature envelope', async () => {
    const verified = await verifyMessage(unsignedCommand(), check());
    expect(verified).toMatchObject({ ok: false, code: 'unsigned' });
  });

  it('refuses a command whose fields were changed after signing', async () => {
    const credential = await credentialFor([{ agents: ['web-01'] }]);
    const signed = await signMessage<Command>(unsignedCommand(), {
      privateKey: app.privateKey,
      alg: app.alg,
      credential,
    });
    const tampered = { ...signed, args: { ...signed.args, unit: 'sshd' } };

    expect(await verifyMessage(tampered, check())).toMatchObject({
      ok: false,
      code: 'bad_signature',
    });
  });

  it('signs an argument named auth: only the top-level envelope is left out', async () => {
    const credential = await credentialFor([{ agents: ['web-01'] }]);
    const signed = await signMessage<Command>(unsignedCommand({ args: { auth: 'token' } }), {
      privateKey: app.privateKey,
      alg: app.alg,
      credential,
    });
    const tampered = { ...signed, args: { auth: 'other' } };

    expect(await verifyMessage(signed, check())).toMatchObject({ ok: true });
    expect(await verifyMessage(tampered, check())).toMatchObject({
      ok: false,
      code: 'bad_signature',
    });
  });

  it('refuses a signature made by a key other than the certified one', async () => {
    const other = await generateSigningKeyPair('EdDSA');
    const credential = await credentialFor([{ agents: ['web-01'] }]);
    const signed = await signMessage<Command>(unsignedCommand(), {
      privateKey: other.privateKey,
      alg: other.alg,
      credential,
    });

    expect(await verifyMessage(signed, check())).toMatchObject({
      ok: false,
      code: 'bad_signature',
    });
  });

  it('refuses a credential from an untrusted root', async () => {
    const rogue = await generateSigningKeyPair('EdDSA');
    const credential = await issueCredential(
      { privateKey: rogue.privateKey, alg: rogue.alg, kid: 'root-1' },
      {
        issuer: ISSUER,
        appId: 'deployer',
        publicJwk: app.publicJwk,
        grants: [{ agents: ['web-01'] }],
        ttlSeconds: 600,
      },
    );
    const signed = await signMessage<Command>(unsignedCommand(), {
      privateKey: app.privateKey,
      alg: app.alg,
      credential,
    });

    expect(await verifyMessage(signed, check())).toMatchObject({
      ok: false,
      code: 'untrusted_credential',
    });
  });

  it('refuses an expired credential', async () => {
    const now = Math.floor(Date.now() / 1_000);
    const credential = await new SignJWT({
      cnf: { jwk: app.publicJwk },
      grants: [{ agents: ['web-01'] }],
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'root-1', typ: CREDENTIAL_TYPE })
      .setIssuer(ISSUER)
      .setSubject('deployer')
      .setAudience('beckon-agent')
      .setIssuedAt(now - 7_200)
      .setExpirationTime(now - 3_600)
      .sign(root.privateKey);
    const signed = await signMessage<Command>(unsignedCommand(), {
      privateKey: app.privateKey,
      alg: app.alg,
      credential,
    });

    expect(await verifyMessage(signed, check())).toMatchObject({
      ok: false,
      code: 'untrusted_credential',
      message: 'credential has expired',
    });
  });

  it('refuses an unsigned (alg none) credential', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: CREDENTIAL_TYPE }));
    const payload = base64url.encode(
      JSON.stringify({
        iss: ISSUER,
        sub: 'deployer',
        aud: 'beckon-agent',
        iat: 1,
        exp: 9_999_999_999,
        cnf: { jwk: app.publicJwk },
        grants: [{ agents: ['web-01'] }],
      }),
    );
    const signed = await signMessage<Command>(unsignedCommand(), {
      privateKey: app.privateKey,
      alg: app.alg,
      credential: `${header}.${payload}.c2ln`,
    });

    expect(await verifyMessage(signed, check())).toMatchObject({
      ok: false,
      code: 'untrusted_credential',
    });
  });

  it('refuses a credential issued to another app', async () => {
    const credential = await credentialFor([{ agents: ['web-01'] }]);
    const signed = await signMessage<Command>(unsignedCommand({ issuer: 'billing' }), {
      privateKey: app.privateKey,
      alg: app.alg,
      credential,
    });

    expect(await verifyMessage(signed, check())).toMatchObject({
      ok: false,
      code: 'untrusted_credential',
    });
  });

  it('refuses when no grant covers this agent or this action', async () => {
    for (const grants of [[{ agents: ['db-01'] }], [{ groups: ['web'], actions: ['ping'] }]]) {
      const credential = await credentialFor(grants);
      const signed = await signMessage<Command>(unsignedCommand(), {
        privateKey: app.privateKey,
        alg: app.alg,
        credential,
      });

      expect(await verifyMessage(signed, check())).toMatchObject({
        ok: false,
        code: 'not_granted',
      });
    }
  });
});
