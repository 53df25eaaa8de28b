import { randomUUID } from 'node:crypto';
import {
  AppAgentsResponse,
  BrokerTokenResponse,
  CredentialHttpRequest,
  CredentialHttpResponse,
  issueCredential,
  type Grant,
  type PublicJwk,
  type TrustRootSigner,
} from '@beckon/shared';
import { calculateJwkThumbprint, decodeJwt, type JWK } from 'jose';
import type { DirectorySnapshot } from '../directory/types.js';
import { ApiError } from '../http/api-error.js';
import { authenticatePrincipal } from '../http/authenticate.js';
import type { Router } from '../http/router.js';
import { parseInput } from '../http/validate.js';
import type { ServiceContext } from '../service-context.js';
import { issueBrokerToken } from '../trust/broker-token.js';
import { requirePrincipal } from './admin-handler.js';
import { AppAgentsQuery, queryObject } from './schemas.js';

function grantsOf(snapshot: DirectorySnapshot, appId: string): Grant[] {
  return snapshot.grants
    .filter((grant) => grant.appId === appId)
    .map((grant) => ({
      ...(grant.agents.length === 0 ? {} : { agents: [...grant.agents] }),
      ...(grant.groups.length === 0 ? {} : { groups: [...grant.groups] }),
      ...(grant.actions === undefined ? {} : { actions: [...grant.actions] }),
    }));
}

/** Existing, enabled agents a grant of this app names, by id or by group. */
export function grantedAgents(
  snapshot: DirectorySnapshot,
  appId: string,
  group?: string,
): string[] {
  const grants = snapshot.grants.filter((grant) => grant.appId === appId);
  const agents: string[] = [];

  for (const principal of snapshot.principals.values()) {
    if (principal.kind !== 'agent' || !principal.enabled) {
      continue;
    }

    if (group !== undefined && !principal.groups.includes(group)) {
      continue;
    }

    const granted = grants.some(
      (grant) =>
        grant.agents.includes(principal.id) ||
        grant.groups.some((name) => principal.groups.includes(name)),
    );

    if (granted) {
      agents.push(principal.id);
    }
  }

  return agents.sort();
}

async function sameKey(a: PublicJwk, b: PublicJwk): Promise<boolean> {
  const [left, right] = await Promise.all([
    calculateJwkThumbprint(a as JWK),
    calculateJwkThumbprint(b as JWK),
  ]);

  return left === right;
}

async function activeSigner(context: ServiceContext): Promise<TrustRootSigner> {
  const signer = await context.directory.activeSigner();

  if (signer === undefined) {
    throw new ApiError('unavailable', 'the trust root has no active key');
  }

  return signer;
}

/** What central apps call with their own id and secret: credentials, broker JWTs, agents. */
export function registerAppRoutes(router: Router, context: ServiceContext): void {
  const { config, directory, logger, store } = context;

  router.add('POST', '/v1/credentials', async (request) => {
    const app = await authenticatePrincipal(context, request, 'app');
    const { publicJwk } = parseInput(CredentialHttpRequest, await request.body(), 'body');
    const { kid: _kid, alg: _alg, use: _use, ...bareKey } = publicJwk;

    await store.mutate(`app:${app.id}`, async (writer) => {
      const record = await requirePrincipal(writer, app.id, 'app');

      if (record.publicJwk === undefined) {
        await writer.updatePrincipal(app.id, { publicJwk: bareKey });
        await writer.audit({ action: 'app.key-pinned', target: `app:${app.id}` });
      } else if (!(await sameKey(record.publicJwk, publicJwk))) {
        throw new ApiError('forbidden', 'public key does not match the key pinned for this app');
      }
    });

    const signer = await activeSigner(context);
    const snapshot = directory.current();
    const grants = grantsOf(snapshot, app.id);
    const credential = await issueCredential(signer, {
      issuer: config.issuer,
      appId: app.id,
      publicJwk,
      grants,
      ttlSeconds: config.credentials.appCredentialTtlSeconds,
      jti: randomUUID(),
    });
    const expiresAt = new Date((decodeJwt(credential).exp ?? 0) * 1_000).toISOString();

    logger.info({ appId: app.id, kid: signer.kid }, 'credential issued');

    return {
      status: 200,
      body: CredentialHttpResponse.parse({
        credential,
        expiresAt,
        appId: app.id,
        grants,
        trustRoot: directory.trustRoot(),
      }),
    };
  });

  router.add('POST', '/v1/broker-token', async (request) => {
    const app = await authenticatePrincipal(context, request, 'app');
    const signer = await activeSigner(context);
    const { token, expiresAt } = await issueBrokerToken(signer, {
      issuer: config.issuer,
      appId: app.id,
      ttlSeconds: config.credentials.brokerTokenTtlSeconds,
    });

    logger.info({ appId: app.id, kid: signer.kid }, 'broker token issued');

    return {
      status: 200,
      body: BrokerTokenResponse.parse({ token, expiresAt: expiresAt.toISOString() }),
    };
  });

  router.add('GET', '/v1/app/agents', async (request) => {
    const app = await authenticatePrincipal(context, request, 'app');
    const { group } = parseInput(AppAgentsQuery, queryObject(request.query), 'query');

    return {
      status: 200,
      body: AppAgentsResponse.parse({ agents: grantedAgents(directory.current(), app.id, group) }),
    };
  });
}
