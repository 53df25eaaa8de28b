import { randomBytes } from 'node:crypto';
import { EnrollRequest, EnrollResponse, isPrincipalId } from '@beckon/shared';
import { enrollTokenState } from '../admin-api/views.js';
import { ApiError, tooManyRequests } from '../http/api-error.js';
import type { Router } from '../http/router.js';
import { parseInput } from '../http/validate.js';
import { generateSecret } from '../secrets/generate-secret.js';
import { hashGeneratedSecret } from '../secrets/generated-secret-hash.js';
import { tokenDigest } from '../secrets/token-digest.js';
import type { ServiceContext } from '../service-context.js';
import type { StoreWriter } from '../store/store.js';

const SUFFIX_BYTES = 3;

// Unknown, expired, used up or revoked: the caller learns nothing about which.
function invalidToken(): ApiError {
  return new ApiError('unauthorized', 'enrollment token is not valid');
}

// Without an id from the token or the request, the host's name is the friendliest id; a
// random suffix keeps a second host of the same name from colliding with the first.
async function chooseAgentId(writer: StoreWriter, hostname: string | undefined): Promise<string> {
  const base = hostname !== undefined && isPrincipalId(hostname) ? hostname : 'agent';

  if (base !== 'agent' && (await writer.getPrincipal(base)) === undefined) {
    return base;
  }

  return `${base.slice(0, 100)}-${randomBytes(SUFFIX_BYTES).toString('hex')}`;
}

/** `POST /v1/enroll`: an installer trades a token for the agent's credentials. */
export function registerEnrollRoute(router: Router, context: ServiceContext): void {
  const { store, config, directory, logger, failedLogins } = context;

  router.add('POST', '/v1/enroll', async (request) => {
    const wait = failedLogins.byAddress.retryAfterMs(request.remoteAddress);

    if (wait > 0) {
      throw tooManyRequests(wait);
    }

    const body = parseInput(EnrollRequest, await request.body(), 'body');
    const now = Date.now();
    const token = await store.read((reader) => reader.findEnrollToken(tokenDigest(body.token)));

    if (token === undefined || enrollTokenState(token, now) !== 'active') {
      failedLogins.byAddress.recordFailure(request.remoteAddress);
      logger.warn({ remoteAddress: request.remoteAddress }, 'enrollment token refused');

      throw invalidToken();
    }

    if (
      token.agentId !== undefined &&
      body.agentId !== undefined &&
      body.agentId !== token.agentId
    ) {
      throw new ApiError('forbidden', 'this token enrolls a different agent id');
    }

    const secret = generateSecret();
    const secretHash = hashGeneratedSecret(secret);
    const enrolled = await store.mutate(`enroll:${token.id}`, async (writer) => {
      const agentId = token.agentId ?? body.agentId ?? (await chooseAgentId(writer, body.hostname));
      const existing = await writer.getPrincipal(agentId);

      // Only a token made for this very agent may re-key it; anything else would let a token
      // holder take over someone else's identity.
      if (existing !== undefined && (token.agentId !== agentId || existing.kind !== 'agent')) {
        throw new ApiError('conflict', `agent id ${agentId} is taken`);
      }

      if (!(await writer.consumeEnrollToken(token.id, Date.now()))) {
        throw invalidToken();
      }

      if (existing === undefined) {
        await writer.insertPrincipal({
          id: agentId,
          kind: 'agent',
          enabled: true,
          superuser: false,
          secretHash,
        });
      } else {
        await writer.setSecretHash(agentId, secretHash);
      }

      for (const group of token.groups) {
        await writer.addMember(group, agentId);
      }

      await writer.audit({
        action: existing === undefined ? 'agent.enroll' : 'agent.rekey',
        target: `agent:${agentId}`,
        detail: {
          groups: token.groups,
          ...(body.hostname === undefined ? {} : { hostname: body.hostname }),
        },
      });

      return writer.getPrincipal(agentId);
    });

    if (enrolled === undefined) {
      throw new ApiError('internal_error', 'enrolled agent vanished');
    }

    logger.info({ agentId: enrolled.id, enrollTokenId: token.id }, 'agent enrolled');

    return {
      status: 201,
      body: EnrollResponse.parse({
        agentId: enrolled.id,
        username: enrolled.id,
        password: secret,
        groups: enrolled.groups,
        trustRoot: directory.trustRoot(),
        ...(config.brokerUrl === undefined ? {} : { brokerUrl: config.brokerUrl }),
      }),
    };
  });
}
