import {
  generateSigningKeyPair,
  issueCredential,
  signMessage,
  type Cancel,
  type Command,
  type Grant,
  type TrustRoot,
  type Unsigned,
} from '@beckon/shared';

export const TRUST_ISSUER = 'beckon-test-auth';
const ROOT_KID = 'root-1';
const CREDENTIAL_TTL_SECONDS = 600;
const COMMAND_VALIDITY_MS = 60_000;

export interface TestApp {
  readonly appId: string;
  sign<T extends Command | Cancel>(message: Unsigned<T>): Promise<T>;
}

export interface TestTrust {
  readonly trustRoot: TrustRoot;
  app(appId: string, grants: readonly Grant[]): Promise<TestApp>;
}

/** Stands in for the auth-service: a trust root that certifies app keys and grants. */
export async function createTestTrust(): Promise<TestTrust> {
  const root = await generateSigningKeyPair('EdDSA');
  const trustRoot: TrustRoot = {
    issuer: TRUST_ISSUER,
    keys: [{ ...root.publicJwk, kid: ROOT_KID }],
  };

  return {
    trustRoot,
    async app(appId, grants) {
      const key = await generateSigningKeyPair('ES256');
      const credential = await issueCredential(
        { privateKey: root.privateKey, alg: 'EdDSA', kid: ROOT_KID },
        {
          issuer: TRUST_ISSUER,
          appId,
          publicJwk: key.publicJwk,
          grants,
          ttlSeconds: CREDENTIAL_TTL_SECONDS,
        },
      );

      return {
        appId,
        sign: (message) =>
          signMessage(message, { privateKey: key.privateKey, alg: key.alg, credential }),
      };
    },
  };
}

let counter = 0;

/** A unique, well-formed command id. */
export function newId(prefix = 'cmd'): string {
  counter += 1;

  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface CommandFields {
  readonly agentId: string;
  readonly action: string;
  readonly args?: Command['args'];
  readonly id?: string;
  readonly validForMs?: number;
  readonly replyTo?: string;
  readonly progress?: boolean;
  readonly correlationData?: string;
}

export function unsignedCommand(issuer: string, fields: CommandFields): Unsigned<Command> {
  const now = Date.now();

  return {
    kind: 'command',
    id: fields.id ?? newId(),
    agentId: fields.agentId,
    action: fields.action,
    args: fields.args ?? {},
    issuer,
    issuedAt: new Date(now - 1_000).toISOString(),
    expiresAt: new Date(now + (fields.validForMs ?? COMMAND_VALIDITY_MS)).toISOString(),
    ...(fields.replyTo === undefined ? {} : { replyTo: fields.replyTo }),
    ...(fields.progress === undefined ? {} : { progress: fields.progress }),
    ...(fields.correlationData === undefined ? {} : { correlationData: fields.correlationData }),
  };
}

export function unsignedCancel(
  issuer: string,
  agentId: string,
  commandId: string,
): Unsigned<Cancel> {
  const now = Date.now();

  return {
    kind: 'cancel',
    id: newId('cancel'),
    agentId,
    commandId,
    issuer,
    issuedAt: new Date(now - 1_000).toISOString(),
    expiresAt: new Date(now + COMMAND_VALIDITY_MS).toISOString(),
  };
}
