import {
  createPublicKey,
  type KeyObject as NodeKeyObject,
  type KeyObject as PublicKeyObject,
} from 'node:crypto';
import {
  createLocalJWKSet,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type KeyObject,
} from 'jose';
import { z } from 'zod';
import { signDetached, verifyDetached } from './detached-jws.js';
import { ExpiringCache } from './expiring-cache.js';
import { ActionName, AgentId, AppId, GroupName } from './ids.js';
import { MAX_TOKEN_LENGTH } from './limits.js';
import type { Cancel, Command, ResultErrorCode, Unsigned } from './messages.js';

/** Only asymmetric algorithms: a verifier never accepts a MAC made with a public key. */
export const SIGNING_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** `typ` of the credential the auth-service issues to an app. */
export const CREDENTIAL_TYPE = 'beckon-credential+jwt';
/** `aud` of an app credential: only agents accept it. */
export const CREDENTIAL_AUDIENCE = 'beckon-agent';
/** `typ` of the JWS over a command or cancel. */
export const MESSAGE_SIGNATURE_TYPE = 'beckon-command+jws';

/** Tolerated clock skew between the auth-service, apps and agents. */
export const CLOCK_TOLERANCE_SECONDS = 30;

const Base64Url = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/)
  .max(256);

/** A public key, never a private one: strict objects refuse a stray `d`. */
export const PublicJwk = z.discriminatedUnion('kty', [
  z.strictObject({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    x: Base64Url,
    kid: z.string().max(128).optional(),
    alg: z.literal('EdDSA').optional(),
    use: z.literal('sig').optional(),
  }),
  z.strictObject({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: Base64Url,
    y: Base64Url,
    kid: z.string().max(128).optional(),
    alg: z.literal('ES256').optional(),
    use: z.literal('sig').optional(),
  }),
]);

export type PublicJwk = z.infer<typeof PublicJwk>;

/** The auth-service's trust root as agents store it: one key, or several during a rotation. */
export const TrustRoot = z.strictObject({
  issuer: z.string().min(1).max(256),
  keys: z
    .array(PublicJwk.and(z.object({ kid: z.string().min(1).max(128) })))
    .min(1)
    .max(16),
});

export type TrustRoot = z.infer<typeof TrustRoot>;

/**
 * What an app may make agents do. A grant names agents, groups or both; without `actions` it
 * covers every action those agents offer.
 */
export const Grant = z
  .strictObject({
    agents: z.array(AgentId).max(1_000).optional(),
    groups: z.array(GroupName).max(256).optional(),
    actions: z.array(ActionName).max(256).optional(),
  })
  .refine((grant) => grant.agents !== undefined || grant.groups !== undefined, {
    error: 'must name agents or groups',
  });

export type Grant = z.infer<typeof Grant>;

/** The claims of an app credential, checked after the signature and the registered claims. */
export const CredentialClaims = z.object({
  iss: z.string(),
  sub: AppId,
  aud: z.union([z.string(), z.array(z.string())]),
  iat: z.number().int(),
  exp: z.number().int(),
  nbf: z.number().int().optional(),
  jti: z.string().max(128).optional(),
  /** The app's own public key (RFC 7800 confirmation claim). */
  cnf: z.strictObject({ jwk: PublicJwk }),
  grants: z.array(Grant).max(256),
});

export type CredentialClaims = z.infer<typeof CredentialClaims>;

/** Serialises JSON with sorted keys and no spaces, so signer and verifier hash the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) as string | undefined;

    if (text === undefined) {
      throw new TypeError(`cannot serialise a ${typeof value} into canonical JSON`);
    }

    return text;
  }

  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  }

  return canonicalObject(value as Record<string, unknown>, undefined);
}

// Every signed and verified message passes through here, so it builds the text in one loop
// rather than through entries, filter and map (about half the time per command). The default
// sort compares UTF-16 code units, the same order as `<` on strings. `omit` leaves out one key
// without copying the object: a rest spread that drops a key takes V8's slow path.
function canonicalObject(value: Record<string, unknown>, omit: string | undefined): string {
  const keys = Object.keys(value).sort();
  let text = '{';

  for (const key of keys) {
    const item = value[key];

    if (item === undefined || key === omit) {
      continue;
    }

    text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }

  return `${text}}`;
}

type Signable = Command | Cancel;

function signingBytes(message: Unsigned<Signable>): Buffer {
  return Buffer.from(canonicalObject(message, 'auth'), 'utf8');
}

export interface MessageSigner {
  readonly privateKey: CryptoKey | NodeKeyObject;
  readonly alg: SigningAlgorithm;
  /** The app's current credential from the auth-service. */
  readonly credential: string;
}

/** Signs a command or cancel with the app's key and attaches its credential. */
export function signMessage<T extends Signable>(
  message: Unsigned<T>,
  signer: MessageSigner,
): Promise<T> {
  const signature = signDetached(
    signingBytes(message),
    signer.alg,
    MESSAGE_SIGNATURE_TYPE,
    signer.privateKey,
  );

  return Promise.resolve({
    ...message,
    auth: { credential: signer.credential, signature },
  } as T);
}

export type VerifyFailure = {
  readonly ok: false;
  readonly code: Extract<
    ResultErrorCode,
    'unsigned' | 'untrusted_credential' | 'bad_signature' | 'not_granted'
  >;
  readonly message: string;
};

export type VerifyResult<T> = { readonly ok: true; readonly value: T } | VerifyFailure;

export interface CredentialCheck {
  readonly trustRoot: TrustRoot;
  /** The instant to check expiry against; defaults to now. */
  readonly currentDate?: Date;
}

function failure(code: VerifyFailure['code'], message: string): VerifyFailure {
  return { ok: false, code, message };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) {
    return 'credential has expired';
  }

  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `credential claim "${error.claim}" is not acceptable`;
  }

  if (error instanceof joseErrors.JOSEError) {
    return `credential rejected (${error.code})`;
  }

  return 'credential could not be verified';
}

/**
 * Apps renew credentials often; a thousand distinct live credentials is far beyond a real
 * fleet, and an evicted one only costs its verification again.
 */
export const MAX_VERIFIED_CREDENTIALS = 1_000;

/** A credential that passed `verifyCredential`, with the app's public key imported from it. */
interface VerifiedCredential {
  readonly claims: CredentialClaims;
  readonly key: PublicKeyObject;
}

// Verifying a credential (a JWT signature, claim checks, a zod parse) and importing the app
// key it certifies cost far more than checking one message signature, and an app sends many
// messages under one credential. A verified credential is remembered by its exact token and
// by the exact trust root it chained to: a rotated or withdrawn root key changes that part of
// the key, so an entry verified under the old root is never served again. An entry is served
// only inside the window jwtVerify itself would accept (nbf and exp with the clock tolerance),
// measured at the caller's `currentDate`. A failed verification is never remembered.
const verifiedCredentials = new ExpiringCache<VerifiedCredential>(MAX_VERIFIED_CREDENTIALS);

// App keys imported for claims that did not come from the cache (a caller's own claims).
const importedKeys = new WeakMap<CredentialClaims, { jwk: PublicJwk; key: PublicKeyObject }>();

// Runs for every message, so plain JSON.stringify (a sixth of canonical JSON's cost here):
// distinct roots still serialise differently, and the same root written in another key order
// only misses the cache and is verified once more.
function trustRootFingerprint(trustRoot: TrustRoot): string {
  return JSON.stringify({ issuer: trustRoot.issuer, keys: trustRoot.keys });
}

function importPublicKey(jwk: PublicJwk): PublicKeyObject {
  return createPublicKey({ key: jwk, format: 'jwk' });
}

function sameJwk(a: PublicJwk, b: PublicJwk): boolean {
  return a.kty === b.kty && a.x === b.x && (a.kty === 'OKP' || (b.kty === 'EC' && a.y === b.y));
}

// Cached claims are shared by every caller that presents the same token: none may change them.
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);

    for (const item of Object.values(value)) {
      deepFreeze(item);
    }
  }

  return value;
}

function keyForClaims(claims: CredentialClaims): PublicKeyObject {
  const known = importedKeys.get(claims);

  if (known !== undefined && sameJwk(known.jwk, claims.cnf.jwk)) {
    return known.key;
  }

  const key = importPublicKey(claims.cnf.jwk);
  importedKeys.set(claims, { jwk: { ...claims.cnf.jwk }, key });

  return key;
}

// A verification under way, by cache key, with the window its result may be served in.
interface FreshVerification {
  readonly result: VerifyResult<VerifiedCredential>;
  readonly validFromMs: number;
  readonly validUntilMs: number;
}

// Messages that arrive together under a credential not verified yet (the first burst after an
// app renews it, a fan-out reaching hundreds of agents in one process) share one verification
// instead of each starting its own: every JWT verification is an async job, so without this
// the whole burst missed the cache. Only a success is shared, and only with a caller whose
// instant lies in its window; a failure leaves every other caller to verify on its own.
const verifying = new Map<string, Promise<FreshVerification>>();

async function checkCredential(
  token: string,
  check: CredentialCheck,
): Promise<VerifyResult<VerifiedCredential>> {
  if (token.length > MAX_TOKEN_LENGTH) {
    return failure('untrusted_credential', 'credential is too long');
  }

  const nowMs = check.currentDate?.getTime() ?? Date.now();
  const cacheKey = `${trustRootFingerprint(check.trustRoot)}\n${token}`;
  const cached = verifiedCredentials.get(cacheKey, nowMs);

  if (cached !== undefined) {
    return { ok: true, value: cached };
  }

  const shared = verifying.get(cacheKey);

  if (shared !== undefined) {
    const fresh = await shared;

    if (fresh.result.ok && nowMs >= fresh.validFromMs && nowMs < fresh.validUntilMs) {
      return fresh.result;
    }
  }

  const verification = verifyFresh(token, check, cacheKey, nowMs);

  if (shared === undefined) {
    verifying.set(cacheKey, verification);
    const forget = (): void => {
      if (verifying.get(cacheKey) === verification) {
        verifying.delete(cacheKey);
      }
    };
    void verification.then(forget, forget);
  }

  return (await verification).result;
}

// The full check of a credential not in the cache; a success is remembered for its window.
async function verifyFresh(
  token: string,
  check: CredentialCheck,
  cacheKey: string,
  nowMs: number,
): Promise<FreshVerification> {
  const refused = (reason: string): FreshVerification => ({
    result: failure('untrusted_credential', reason),
    validFromMs: 0,
    validUntilMs: 0,
  });
  const keys = createLocalJWKSet({ keys: check.trustRoot.keys as JWK[] });
  let claims: CredentialClaims;

  try {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: [...SIGNING_ALGORITHMS],
      issuer: check.trustRoot.issuer,
      audience: CREDENTIAL_AUDIENCE,
      typ: CREDENTIAL_TYPE,
      requiredClaims: ['exp', 'iat', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(nowMs),
    });
    const parsed = CredentialClaims.safeParse(payload);

    if (!parsed.success) {
      return refused('credential claims do not match the contract');
    }

    claims = deepFreeze(parsed.data);
  } catch (error) {
    return refused(describeJoseError(error));
  }

  let key: PublicKeyObject;

  try {
    key = importPublicKey(claims.cnf.jwk);
  } catch {
    return refused('credential certifies a key that cannot be used');
  }

  const verified: VerifiedCredential = { claims, key };
  importedKeys.set(claims, { jwk: claims.cnf.jwk, key });

  // The same window jwtVerify allowed, so the cache never serves what it would refuse.
  const toleranceMs = CLOCK_TOLERANCE_SECONDS * 1_000;
  const validFromMs =
    claims.nbf === undefined ? Number.NEGATIVE_INFINITY : claims.nbf * 1_000 - toleranceMs;
  const validUntilMs = claims.exp * 1_000 + toleranceMs;
  verifiedCredentials.set(cacheKey, verified, validFromMs, validUntilMs);

  return { result: { ok: true, value: verified }, validFromMs, validUntilMs };
}

/**
 * Checks an app credential against the trust root: signature, type, issuer, audience, times.
 * A credential verified before under the same trust root is answered from memory until its
 * expiry (see `MAX_VERIFIED_CREDENTIALS`).
 */
export async function verifyCredential(
  token: string,
  check: CredentialCheck,
): Promise<VerifyResult<CredentialClaims>> {
  const checked = await checkCredential(token, check);

  return checked.ok ? { ok: true, value: checked.value.claims } : checked;
}

/** Forgets every verified credential (for tests that count verifications). */
export function clearVerifiedCredentials(): void {
  verifiedCredentials.clear();
}

/** True when one of the grants names this agent (or one of its groups) and this action. */
export function grantsCover(
  grants: readonly Grant[],
  agentId: string,
  agentGroups: readonly string[],
  action?: string,
): boolean {
  return grants.some((grant) => {
    const namesAgent =
      (grant.agents?.includes(agentId) ?? false) ||
      (grant.groups?.some((group) => agentGroups.includes(group)) ?? false);
    const coversAction =
      action === undefined || grant.actions === undefined || grant.actions.includes(action);

    return namesAgent && coversAction;
  });
}

export interface MessageCheck extends CredentialCheck, SignatureCheck {}

/**
 * The agent's gate: the credential chains to the trust root, the signature was made by the
 * certified key over exactly this message, the sender is the credential's subject, and a grant
 * covers this agent and (for a command) this action.
 */
export async function verifyMessage(
  message: Signable,
  check: MessageCheck,
): Promise<VerifyResult<CredentialClaims>> {
  if (message.auth === undefined) {
    return failure('unsigned', 'message carries no signature envelope');
  }

  const credential = await checkCredential(message.auth.credential, check);

  if (!credential.ok) {
    return credential;
  }

  return checkSignature(message, credential.value.claims, credential.value.key, check);
}

export interface SignatureCheck {
  /** The receiving agent's own id and groups. */
  readonly agentId: string;
  readonly agentGroups: readonly string[];
}

/**
 * The part of `verifyMessage` that follows the credential check, for a verifier that caches
 * credentials it already verified (by token, until they expire): the sender is the
 * credential's subject, the signature was made by the certified key over exactly this message,
 * and a grant covers this agent and (for a command) this action. `claims` must come from
 * `verifyCredential` for `message.auth.credential`.
 */
export function verifyMessageWithClaims(
  message: Signable,
  claims: CredentialClaims,
  check: SignatureCheck,
): Promise<VerifyResult<CredentialClaims>> {
  let key: PublicKeyObject;

  try {
    key = keyForClaims(claims);
  } catch {
    return Promise.resolve(
      failure('untrusted_credential', 'credential certifies a key that cannot be used'),
    );
  }

  return Promise.resolve(checkSignature(message, claims, key, check));
}

// The message's own signature, checked every time against the key the credential certifies.
function checkSignature(
  message: Signable,
  claims: CredentialClaims,
  key: PublicKeyObject,
  check: SignatureCheck,
): VerifyResult<CredentialClaims> {
  if (message.auth === undefined) {
    return failure('unsigned', 'message carries no signature envelope');
  }

  if (claims.sub !== message.issuer) {
    return failure('untrusted_credential', 'credential was issued to a different app');
  }

  const verified = verifyDetached(message.auth.signature, signingBytes(message), key);

  if (!verified.ok) {
    return failure('bad_signature', 'signature does not verify against the certified key');
  }

  if (verified.typ !== MESSAGE_SIGNATURE_TYPE) {
    return failure('bad_signature', 'signature has the wrong type');
  }

  const action = message.kind === 'command' ? message.action : undefined;

  if (!grantsCover(claims.grants, check.agentId, check.agentGroups, action)) {
    return failure(
      'not_granted',
      action === undefined
        ? `app ${message.issuer} is not granted agent ${check.agentId}`
        : `app ${message.issuer} is not granted action ${action} on agent ${check.agentId}`,
    );
  }

  return { ok: true, value: claims };
}

export interface CredentialRequest {
  readonly issuer: string;
  readonly appId: string;
  readonly publicJwk: PublicJwk;
  readonly grants: readonly Grant[];
  readonly ttlSeconds: number;
  readonly jti?: string;
}

export interface TrustRootSigner {
  readonly privateKey: CryptoKey | KeyObject;
  readonly alg: SigningAlgorithm;
  readonly kid: string;
}

/**
 * Certifies an app's public key and grants. The auth-service is the only production caller;
 * tests use it to stand in for the auth-service.
 */
export async function issueCredential(
  signer: TrustRootSigner,
  request: CredentialRequest,
): Promise<string> {
  const { kid: _kid, alg: _alg, use: _use, ...key } = PublicJwk.parse(request.publicJwk);
  const now = Math.floor(Date.now() / 1_000);
  const payload = {
    cnf: { jwk: key },
    grants: request.grants.map((grant) => Grant.parse(grant)),
    ...(request.jti === undefined ? {} : { jti: request.jti }),
  };

  return new SignJWT(payload)
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: CREDENTIAL_TYPE })
    .setIssuer(request.issuer)
    .setSubject(request.appId)
    .setAudience(CREDENTIAL_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + request.ttlSeconds)
    .sign(signer.privateKey);
}

export interface SigningKeyPair {
  readonly alg: SigningAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicJwk: PublicJwk;
}

/** A fresh key pair for an app or a trust root; the private key can be exported as a JWK. */
export async function generateSigningKeyPair(
  alg: SigningAlgorithm = 'EdDSA',
): Promise<SigningKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const publicJwk = PublicJwk.parse(await exportJWK(publicKey));

  return { alg, privateKey, publicJwk };
}
