/** Bits in the table: 256 KiB, whatever the traffic. */
const DEFAULT_BITS = 1 << 21;
/**
 * Keys marked before the table starts over. At one sixteenth of the bits, with two bits a key,
 * about one bit in eight is set when it does, so a key never seen passes for seen about once in
 * seventy: often enough to be harmless, rarely enough to keep the table's point.
 */
const MARKS_PER_BIT = 1 / 16;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Goes between the parts of a key, so `ab`+`c` and `a`+`bc` hash apart. */
const SEPARATOR = 0xffff;

/**
 * Whether a (username, topic, slot) key was probably seen before: a Bloom filter of two bits a
 * key. The decision cache asks it before keeping an answer, so a check that never comes again
 * costs a few hashed characters instead of a cache entry that lives until the cache starts
 * over (and, kept that long, is copied by every young collection and then marked by the old
 * one). It can only err towards "seen": the worst a false answer does is keep one answer that
 * was not needed. When enough keys are marked it forgets them all at once; a check then needs
 * one more miss before it is kept again.
 */
export class FirstSight {
  readonly #bits: Uint32Array;
  readonly #mask: number;
  readonly #maxMarks: number;
  #marks = 0;

  constructor(bits: number = DEFAULT_BITS) {
    if (!Number.isInteger(Math.log2(bits)) || bits < 32) {
      throw new RangeError(`FirstSight needs a power of two of at least 32 bits, not ${bits}`);
    }

    this.#bits = new Uint32Array(bits / 32);
    this.#mask = bits - 1;
    this.#maxMarks = Math.max(1, Math.floor(bits * MARKS_PER_BIT));
  }

  /** True when the key was (probably) marked before; otherwise marks it and says false. */
  seenBefore(username: string, topic: string, slot: number): boolean {
    let hash = hashInto(FNV_OFFSET, username);
    hash = Math.imul(hash ^ SEPARATOR, FNV_PRIME);
    hash = hashInto(hash, topic);
    hash = Math.imul(hash ^ slot, FNV_PRIME);
    const first = hash & this.#mask;
    const second = finalMix(hash) & this.#mask;

    if (this.#isSet(first) && this.#isSet(second)) {
      return true;
    }

    if (this.#marks >= this.#maxMarks) {
      this.#bits.fill(0);
      this.#marks = 0;
    }

    this.#set(first);
    this.#set(second);
    this.#marks += 1;

    return false;
  }

  #isSet(bit: number): boolean {
    return ((this.#bits[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  #set(bit: number): void {
    const word = bit >>> 5;
    this.#bits[word] = (this.#bits[word] as number) | (1 << (bit & 31));
  }
}

// FNV-1a over UTF-16 code units: cheap per character, and a Bloom filter needs spread, not
// resistance to an adversary (a crafted collision can only get one answer cached).
function hashInto(start: number, text: string): number {
  let hash = start;

  for (let index = 0; index < text.length; index += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(index), FNV_PRIME);
  }

  return hash;
}

// The second bit's index: the same hash, its bits stirred (murmur3's finaliser), so the two
// indexes are as good as independent.
function finalMix(value: number): number {
  let hash = value ^ (value >>> 16);
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);

  return hash ^ (hash >>> 16);
}
