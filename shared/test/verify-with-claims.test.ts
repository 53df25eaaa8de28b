import { describe, expect, it } from 'vitest';
import {
  generateSigningKeyPair,
  issueCredential,
  signMessage,
  verifyCredential,
  verifyMessage,
  verifyMessageWithClaims,
  type Command,
  type CredentialClaims,
  type Grant,
  type TrustRoot,
} from '../src/index.js';
import { validCommand } from './fixtures.js';

const ISSUER = 'beckon-auth';
const CHECK = { agentId: 'web-01', agentGroups: ['web'] };

async function setUp(grants: Grant[]) {
  const root = await generateSigningKeyPair('EdDSA');
  const trustRoot: TrustRoot = { issuer: ISSUER, keys: [{ ...root.publicJwk, kid: 'k1' }] };
  const app = await generateSigningKeyPair('ES256');
  const credential = await issueCredential(
    { privateKey: root.privateKey, alg: 'EdDSA', kid: 'k1' },
    { issuer: ISSUER, appId: 'deployer', publicJwk: app.publicJwk, grants, ttlSeconds: 300 },
  );
  const { auth: _auth, ...unsigned } = validCommand();
  const command = await signMessage<Command>(unsigned, {
    privateKey: app.privateKey,
    alg: 'ES256',
    credential,
  });
  const checked = await verifyCredential(credential, { trustRoot });

  if (!checked.ok) {
    throw new Error(checked.message);
  }

  return { trustRoot, command, claims: checked.value };
}

async function both(command: Command, claims: CredentialClaims, trustRoot: TrustRoot) {
  const full = await verifyMessage(command, { ...CHECK, trustRoot });
  const cached = await verifyMessageWithClaims(command, claims, CHECK);

  return { full: full.ok || full.code, cached: cached.ok || cached.code };
}

describe('verifyMessageWithClaims agrees with verifyMessage', () => {
  it('on a valid signed command', async () => {
    const { trustRoot, command, claims } = await setUp([{ groups: ['web'] }]);

    expect(await both(command, claims, trustRoot)).toEqual({ full: true, cached: true });
  });

  it('on a command changed after signing', async () => {
    const { trustRoot, command, claims } = await setUp([{ agents: ['web-01'] }]);
    const tampered = { ...command, args: { unit: 'sshd' } };

    expect(await both(tampered, claims, trustRoot)).toEqual({
      full: 'bad_signature',
      cached: 'bad_signature',
    });
  });

  it('on an action the grant does not cover', async () => {
    const { trustRoot, command, claims } = await setUp([{ agents: ['web-01'], actions: ['ping'] }]);

    expect(await both(command, claims, trustRoot)).toEqual({
      full: 'not_granted',
      cached: 'not_granted',
    });
  });

  it('on an issuer that is not the credential subject', async () => {
    const { trustRoot, command, claims } = await setUp([{ agents: ['web-01'] }]);
    const other = { ...command, issuer: 'intruder' };

    expect(await both(other, claims, trustRoot)).toEqual({
      full: 'untrusted_credential',
      cached: 'untrusted_credential',
    });
  });
});
