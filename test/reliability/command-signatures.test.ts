import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmbeddedBroker } from '@beckon/local';
import {
  CREDENTIAL_AUDIENCE,
  CREDENTIAL_TYPE,
  generateSigningKeyPair,
  signMessage,
  type Command,
  type Result,
  type Unsigned,
} from '@beckon/shared';
import { base64url, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp } from '../harness/app.js';
import { startTestAgent, type RunningAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { startAuthedBroker } from '../harness/broker.js';
import { RawApp } from './support/raw-app.js';
import { recordAction, writeRecorder, type Recorder } from './support/recorder.js';

// A real running agent behind the real broker path refuses every forged, spoiled or stale
// command, answers with the right code, and runs nothing. The app can publish to the agent (it
// is granted at the broker), so only the agent's own gate stands in the way: this is the
// "leaked broker password" half of the two-gate model. Unit-level cases live in
// shared/test/signing.test.ts and agent/test/pipeline-rejections.test.ts.

const AGENT = 'sig-01';
const HOUR_SECONDS = 3_600;

let auth: RunningAuth;
let broker: EmbeddedBroker;
let agent: RunningAgent;
let app: RawApp;
let recorder: Recorder;
let folder: string;
let credential: string;
let trustSigner: { key: CryptoKey; kid: string };

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'beckon-reliability-signatures-'));
  recorder = await writeRecorder(folder);
  auth = await startAuth();
  broker = await startAuthedBroker(auth);
  agent = await startTestAgent(auth, AGENT, {
    brokerUrl: broker.url,
    actions: recordAction(recorder),
  });
  app = await RawApp.grantedTo(auth, broker.url, 'signer', AGENT);
  credential = await app.credential();

  // The trust root's own private key, read from the store as an insider would, so the forged
  // credentials below fail for the one reason each case names and not for a bad signature.
  const keys = await auth.service.store.read((reader) => reader.listTrustKeys());
  const active = keys.find((key) => key.status === 'active');

  if (active === undefined) {
    throw new Error('the auth-service has no active trust key');
  }

  trustSigner = {
    key: (await importJWK(JSON.parse(active.privateJwk) as JWK, active.alg)) as CryptoKey,
    kid: active.kid,
  };
});

afterAll(async () => {
  await app.close();
  await agent.stop();
  await broker.close();
  await auth.close();
  await rm(folder, { recursive: true, force: true });
});

function record(id: string): Unsigned<Command> {
  return app.command(AGENT, 'record', { id });
}

/** A credential with the real claims, changed as a case needs, signed by the real trust root. */
async function forgedCredential(
  change: { iss?: string; aud?: string; nbf?: number; exp?: number; iat?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1_000);
  const { ['kid']: _kid, ...publicJwk } = app.keys.publicJwk as Record<string, unknown>;
  const jwt = new SignJWT({ cnf: { jwk: publicJwk }, grants: [{ agents: [AGENT] }] })
    .setProtectedHeader({ alg: 'EdDSA', kid: trustSigner.kid, typ: CREDENTIAL_TYPE })
    .setIssuer(change.iss ?? auth.issuer)
    .setSubject(app.appId)
    .setAudience(change.aud ?? CREDENTIAL_AUDIENCE)
    .setIssuedAt(change.iat ?? now)
    .setExpirationTime(change.exp ?? now + 600);

  if (change.nbf !== undefined) {
    jwt.setNotBefore(change.nbf);
  }

  return jwt.sign(trustSigner.key);
}

/** Publishes a command that must be refused; the answer, once it is sure nothing ran. */
async function refusal(command: Command): Promise<Result> {
  const result = await app.roundTrip(AGENT, command);

  expect(await recorder.lines()).not.toContain(command.args['id']);

  return result;
}

describe('command signatures, end to end', () => {
  it('runs a correctly signed command (the baseline every case spoils)', async () => {
    const result = await app.roundTrip(AGENT, await app.sign(record('legit'), credential));

    expect(result.outcome).toBe('succeeded');
  });

  it('refuses a command with no signature as unsigned', async () => {
    const command = record('unsigned') as Command;

    expect(await refusal(command)).toMatchObject({
      outcome: 'rejected',
      error: { code: 'unsigned' },
    });
  });

  it('refuses a credential from a key the agent does not trust', async () => {
    const rogue = await generateSigningKeyPair('EdDSA');
    const { ['kid']: _kid, ...publicJwk } = app.keys.publicJwk as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1_000);
    const token = await new SignJWT({ cnf: { jwk: publicJwk }, grants: [{ agents: [AGENT] }] })
      // It even claims the trusted key's kid.
      .setProtectedHeader({ alg: 'EdDSA', kid: trustSigner.kid, typ: CREDENTIAL_TYPE })
      .setIssuer(auth.issuer)
      .setSubject(app.appId)
      .setAudience(CREDENTIAL_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(rogue.privateKey);
    const command = await app.sign(record('rogue'), token);

    expect(await refusal(command)).toMatchObject({ error: { code: 'untrusted_credential' } });
  });

  it('refuses a command changed after it was signed', async () => {
    const signed = await app.sign(record('original'), credential);
    const tampered = { ...signed, args: { id: 'tampered' } };

    expect(await refusal(tampered)).toMatchObject({ error: { code: 'bad_signature' } });
  });

  it('refuses a command signed by a key other than the certified one', async () => {
    const other = await generateSigningKeyPair('EdDSA');
    const command = await signMessage(record('other-key'), {
      privateKey: other.privateKey,
      alg: 'EdDSA',
      credential,
    });

    expect(await refusal(command)).toMatchObject({ error: { code: 'bad_signature' } });
  });

  it('never runs a replayed command twice, and refuses a new message reusing its id', async () => {
    const signed = await app.sign(record('once'), credential);
    const first = await app.roundTrip(AGENT, signed);
    const copiesBefore = app.results.filter((result) => result.commandId === signed.id).length;

    // The identical bytes again: the stored result is sent again, nothing runs.
    await app.publish(AGENT, JSON.stringify(signed));
    await app.waitForResult(
      () => app.results.filter((result) => result.commandId === signed.id).length > copiesBefore,
    );

    // Another, validly signed command under the same id.
    const reused = await app.sign({ ...record('reused'), id: signed.id }, credential);
    await app.publish(AGENT, JSON.stringify(reused));
    const refused = await app.waitForResult(
      (result) => result.commandId === signed.id && result.error?.code === 'replayed',
    );

    expect(first.outcome).toBe('succeeded');
    expect(refused.outcome).toBe('rejected');
    expect((await recorder.lines()).filter((line) => line === 'once')).toHaveLength(1);
    expect(await recorder.lines()).not.toContain('reused');
  });

  it('refuses an action the grant does not name, for an app granted other actions', async () => {
    const limited = await addApp(auth, 'ping-only', [{ agents: [AGENT], actions: ['ping'] }]);
    const other = await RawApp.connect({
      brokerUrl: broker.url,
      authUrl: auth.adminUrl,
      appId: limited.appId,
      secret: limited.secret,
      agentId: AGENT,
    });

    try {
      const otherCredential = await other.credential();
      const ping = await other.sign(other.command(AGENT, 'ping'), otherCredential);
      const record = await other.sign(
        other.command(AGENT, 'record', { id: 'not-granted' }),
        otherCredential,
      );

      expect((await other.roundTrip(AGENT, ping)).outcome).toBe('succeeded');
      expect(await other.roundTrip(AGENT, record)).toMatchObject({
        outcome: 'rejected',
        error: { code: 'not_granted' },
      });
      expect(await recorder.lines()).not.toContain('not-granted');
    } finally {
      await other.close();
    }
  });

  it('reports a command that expired before it arrived as expired', async () => {
    const past = Date.now() - 120_000;
    const stale = await app.sign(
      {
        ...record('stale'),
        issuedAt: new Date(past - 60_000).toISOString(),
        expiresAt: new Date(past).toISOString(),
      },
      credential,
    );

    expect(await refusal(stale)).toMatchObject({
      outcome: 'expired',
      error: { code: 'expired' },
    });
  });
});

describe('app credentials (JWT) at the agent', () => {
  const now = (): number => Math.floor(Date.now() / 1_000);

  it('accepts a credential forged the same way with nothing wrong (control case)', async () => {
    const command = await app.sign(record('control'), await forgedCredential());
    const result = await app.roundTrip(AGENT, command);

    expect(result.outcome).toBe('succeeded');
  });

  it('refuses alg none, with or without something in the signature part', async () => {
    const [, payload] = credential.split('.');
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: CREDENTIAL_TYPE }));
    const bare = await app.sign(record('alg-none'), `${header}.${payload ?? ''}.`);
    const padded = await app.sign(record('alg-none-sig'), `${header}.${payload ?? ''}.AAAA`);

    // The contract wants three non-empty parts, so the bare form does not even parse.
    expect(await refusal(bare)).toMatchObject({ error: { code: 'malformed' } });
    expect(await refusal(padded)).toMatchObject({ error: { code: 'untrusted_credential' } });
  });

  it('refuses HS256 made with the trust root public key as the MAC secret', async () => {
    const [, payload] = credential.split('.');
    const trust = await auth.service.store.read((reader) => reader.listTrustKeys());
    const publicKeyText = JSON.stringify(trust[0]?.publicJwk);
    const header = base64url.encode(
      JSON.stringify({ alg: 'HS256', kid: trustSigner.kid, typ: CREDENTIAL_TYPE }),
    );
    const mac = createHmac('sha256', publicKeyText)
      .update(`${header}.${payload ?? ''}`)
      .digest('base64url');
    const command = await app.sign(record('hs256'), `${header}.${payload ?? ''}.${mac}`);

    expect(await refusal(command)).toMatchObject({ error: { code: 'untrusted_credential' } });
  });

  it('refuses an expired credential', async () => {
    const token = await forgedCredential({
      iat: now() - 2 * HOUR_SECONDS,
      exp: now() - HOUR_SECONDS,
    });

    expect(await refusal(await app.sign(record('expired-cred'), token))).toMatchObject({
      error: { code: 'untrusted_credential', message: 'credential has expired' },
    });
  });

  it('refuses a credential that is not valid yet', async () => {
    const token = await forgedCredential({ nbf: now() + HOUR_SECONDS });

    expect(await refusal(await app.sign(record('early-cred'), token))).toMatchObject({
      error: { code: 'untrusted_credential' },
    });
  });

  it('refuses a wrong issuer and a wrong audience', async () => {
    const wrongIssuer = await forgedCredential({ iss: 'someone-else' });
    const wrongAudience = await forgedCredential({ aud: 'beckon-broker' });

    expect(await refusal(await app.sign(record('wrong-iss'), wrongIssuer))).toMatchObject({
      error: { code: 'untrusted_credential' },
    });
    expect(await refusal(await app.sign(record('wrong-aud'), wrongAudience))).toMatchObject({
      error: { code: 'untrusted_credential' },
    });
  });

  it('refuses a credential whose payload was changed after signing', async () => {
    const [header, payload, signature] = credential.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const widened = base64url.encode(
      JSON.stringify({ ...claims, exp: Number(claims['exp']) + 365 * 24 * HOUR_SECONDS }),
    );
    const token = `${header ?? ''}.${widened}.${signature ?? ''}`;

    expect(await refusal(await app.sign(record('tampered-cred'), token))).toMatchObject({
      error: { code: 'untrusted_credential' },
    });
  });
});
