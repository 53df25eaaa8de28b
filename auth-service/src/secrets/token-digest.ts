import { createHash } from 'node:crypto';

/**
 * Admin and enrollment tokens carry 192 random bits, so a fast digest is as safe for them as a
 * slow hash and lets the store find a token by its digest with one indexed lookup. Human
 * passwords never go through here.
 */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
