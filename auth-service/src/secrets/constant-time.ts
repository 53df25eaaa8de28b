import { timingSafeEqual } from 'node:crypto';

/** Compares two byte strings without leaking where they first differ. */
export function equalInConstantTime(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    // Still spend one comparison so a length mismatch is not measurably faster.
    timingSafeEqual(a, a);

    return false;
  }

  return timingSafeEqual(a, b);
}
