import { generateToken } from '../secrets/generate-secret.js';
import { tokenDigest } from '../secrets/token-digest.js';
import type { Store } from '../store/store.js';
import { newRecordId } from './record-id.js';

/** Admin bearer tokens start with this, so a leaked one is recognisable in a scan. */
export const ADMIN_TOKEN_PREFIX = 'bat';

export interface CreatedAdminToken {
  readonly id: string;
  readonly name: string;
  /** Shown once; the store keeps only its digest. */
  readonly token: string;
}

/**
 * Creates an admin token directly in the store: how the first operator gets in (the admin API
 * itself needs a token), and how a local system or a test sets itself up.
 */
export async function createAdminToken(
  store: Store,
  actor: string,
  name: string,
): Promise<CreatedAdminToken> {
  const token = generateToken(ADMIN_TOKEN_PREFIX);
  const id = newRecordId('at');

  await store.mutate(actor, async (writer) => {
    await writer.insertAdminToken({ id, name, digest: tokenDigest(token) });
    await writer.audit({
      action: 'admin-token.create',
      target: `admin-token:${id}`,
      detail: { name },
    });
  });

  return { id, name, token };
}
