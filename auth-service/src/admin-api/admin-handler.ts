import { authenticateAdmin } from '../http/authenticate.js';
import { ApiError } from '../http/api-error.js';
import type { Handler, Reply, RequestContext } from '../http/router.js';
import type { ServiceContext } from '../service-context.js';
import type { PrincipalKind } from '../directory/types.js';
import type { PrincipalRecord } from '../store/records.js';
import type { StoreReader } from '../store/store.js';

export type AdminHandler = (actor: string, request: RequestContext) => Promise<Reply>;

/** A handler that runs only for a valid admin token, with the token as the audit actor. */
export function asAdmin(context: ServiceContext, handler: AdminHandler): Handler {
  return async (request) => handler(await authenticateAdmin(context, request), request);
}

export async function requirePrincipal(
  reader: StoreReader,
  id: string,
  kind?: PrincipalKind,
): Promise<PrincipalRecord> {
  const record = await reader.getPrincipal(id);

  if (record === undefined || (kind !== undefined && record.kind !== kind)) {
    throw new ApiError('not_found', `${kind ?? 'principal'} ${id} does not exist`);
  }

  return record;
}

export function ok(body: unknown, status = 200): Reply {
  return { status, body };
}
