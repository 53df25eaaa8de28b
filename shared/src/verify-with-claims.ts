import { base64url, compactVerify, importJWK, type JWK } from 'jose';
import type { Cancel, Command } from './messages.js';
import {
  canonicalJson,
  grantsCover,
  MESSAGE_SIGNATURE_TYPE,
  SIGNING_ALGORITHMS,
  type CredentialClaims,
  type VerifyResult,
} from './signing.js';

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
export async function verifyMessageWithClaims(
  message: Command | Cancel,
  claims: CredentialClaims,
  check: SignatureCheck,
): Promise<VerifyResult<CredentialClaims>> {
  if (message.auth === undefined) {
    return { ok: false, code: 'unsigned', message: 'message carries no signature envelope' };
  }

  if (claims.sub !== message.issuer) {
    return {
      ok: false,
      code: 'untrusted_credential',
      message: 'credential was issued to a different app',
    };
  }

  const { auth: _auth, ...signed } = message;
  const [header, signature] = message.auth.signature.split('..');
  const payload = base64url.encode(new TextEncoder().encode(canonicalJson(signed)));

  try {
    const key = await importJWK(
      claims.cnf.jwk as JWK,
      claims.cnf.jwk.kty === 'OKP' ? 'EdDSA' : 'ES256',
    );
    const verified = await compactVerify(`${header ?? ''}.${payload}.${signature ?? ''}`, key, {
      algorithms: [...SIGNING_ALGORITHMS],
    });

    if (verified.protectedHeader.typ !== MESSAGE_SIGNATURE_TYPE) {
      return { ok: false, code: 'bad_signature', message: 'signature has the wrong type' };
    }
  } catch {
    return {
      ok: false,
      code: 'bad_signature',
      message: 'signature does not verify against the certified key',
    };
  }

  const action = message.kind === 'command' ? message.action : undefined;

  if (!grantsCover(claims.grants, check.agentId, check.agentGroups, action)) {
    return {
      ok: false,
      code: 'not_granted',
      message:
        action === undefined
          ? `app ${message.issuer} is not granted agent ${check.agentId}`
          : `app ${message.issuer} is not granted action ${action} on agent ${check.agentId}`,
    };
  }

  return { ok: true, value: claims };
}
