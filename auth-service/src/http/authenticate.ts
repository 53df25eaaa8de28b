import type { PrincipalKind, Principal } from '../directory/types.js';
import { tokenDigest } from '../secrets/token-digest.js';
import type { ServiceContext } from '../service-context.js';
import { ApiError, tooManyRequests } from './api-error.js';
import { basicCredentials, bearerToken, unauthorizedBasic } from './credentials-header.js';
import type { RequestContext } from './router.js';

const MAX_THROTTLE_KEY_LENGTH = 128;

/** Checks the admin bearer token; returns the audit actor, `admin:<token id>`. */
export async function authenticateAdmin(
  context: ServiceContext,
  request: RequestContext,
): Promise<string> {
  const { byAddress } = context.failedLogins;
  const wait = byAddress.retryAfterMs(request.remoteAddress);

  if (wait > 0) {
    throw tooManyRequests(wait);
  }

  const token = bearerToken(request.req);
  const record = await context.store.read((reader) => reader.findAdminToken(tokenDigest(token)));

  if (record === undefined || record.revokedAt !== undefined) {
    byAddress.recordFailure(request.remoteAddress);
    context.logger.warn({ remoteAddress: request.remoteAddress }, 'admin token refused');

    throw new ApiError('unauthorized', 'invalid admin token', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }

  return `admin:${record.id}`;
}

/**
 * Checks an agent's or app's id and secret (HTTP Basic). Every refusal looks the same, whether
 * the id is unknown, disabled, of the other kind, or the secret is wrong.
 */
export async function authenticatePrincipal(
  context: ServiceContext,
  request: RequestContext,
  kind: PrincipalKind,
): Promise<Principal> {
  const { byAddress, byPrincipal } = context.failedLogins;
  const { username, password } = basicCredentials(request.req);
  const principalKey = username.slice(0, MAX_THROTTLE_KEY_LENGTH);
  const wait = Math.max(
    byAddress.retryAfterMs(request.remoteAddress),
    byPrincipal.retryAfterMs(principalKey),
  );

  if (wait > 0) {
    throw tooManyRequests(wait);
  }

  const verified = await context.directory.verifySecret(username, password);
  const principal = context.directory.current().principals.get(username);

  if (!verified || principal?.kind !== kind || !principal.enabled) {
    byAddress.recordFailure(request.remoteAddress);
    byPrincipal.recordFailure(principalKey);
    context.logger.warn(
      { remoteAddress: request.remoteAddress, kind },
      'principal credentials refused',
    );

    throw unauthorizedBasic();
  }

  return principal;
}
