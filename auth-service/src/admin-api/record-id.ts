import { randomBytes } from 'node:crypto';

const ID_BYTES = 9;

/** Ids for grants, rules and tokens: a short type prefix and 72 random bits. */
export function newRecordId(prefix: string): string {
  return `${prefix}_${randomBytes(ID_BYTES).toString('base64url')}`;
}
