import type { Store } from '../store/store.js';
import { activateTrustKey, createTrustKey } from './trust-keys.js';

/**
 * Generates the first trust-root key when the store has no active one. Replicas starting at
 * once race harmlessly: the check repeats inside the transaction, and a loser changes nothing.
 */
export async function ensureTrustRoot(store: Store): Promise<void> {
  const keys = await store.read((reader) => reader.listTrustKeys());

  if (keys.some((key) => key.status === 'active')) {
    return;
  }

  const key = await createTrustKey();

  await store.mutate('service', async (writer) => {
    if ((await writer.listTrustKeys()).some((existing) => existing.status === 'active')) {
      return;
    }

    await activateTrustKey(writer, key);
    await writer.audit({ action: 'trust.create', target: `trust-key:${key.kid}` });
  });
}
