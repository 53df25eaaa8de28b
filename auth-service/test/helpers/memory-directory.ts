import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type {
  AclRule,
  AppGrant,
  DirectorySnapshot,
  DirectorySource,
  Principal,
  TrustKey,
} from '../../src/directory/types.js';

// A DirectorySource held in memory, for tests: the real store is built elsewhere. Secrets are
// scrypt hashes with a low cost, so a test can count how often the slow path runs.

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const TEST_SCRYPT_COST = 1_024;

export interface PrincipalInput {
  readonly id: string;
  readonly kind: Principal['kind'];
  readonly secret?: string;
  readonly enabled?: boolean;
  readonly superuser?: boolean;
  readonly groups?: readonly string[];
}

export interface DirectoryInput {
  readonly principals?: readonly PrincipalInput[];
  readonly grants?: readonly AppGrant[];
  readonly rules?: readonly AclRule[];
  readonly trustKeys?: readonly TrustKey[];
  readonly issuer?: string;
}

interface StoredSecret {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function hashSecret(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_BYTES, { N: TEST_SCRYPT_COST }, (error, key) => {
      if (error === null) {
        resolve(key);
      } else {
        reject(error);
      }
    });
  });
}

export class MemoryDirectory implements DirectorySource {
  #snapshot: DirectorySnapshot;
  readonly #secrets = new Map<string, Promise<StoredSecret>>();
  readonly #stamps = new Map<string, string>();
  #secretsSet = 0;
  readonly #listeners = new Set<(snapshot: DirectorySnapshot) => void>();
  /** How many times the slow hash ran; tests use it to see what the caches saved. */
  verifyCalls = 0;
  /** When set, verifySecret rejects with it: a store that is down. */
  failure: Error | undefined;

  constructor(input: DirectoryInput = {}) {
    this.#snapshot = this.#build(input, 1);
  }

  current(): DirectorySnapshot {
    return this.#snapshot;
  }

  onChange(listener: (snapshot: DirectorySnapshot) => void): () => void {
    this.#listeners.add(listener);

    return () => {
      this.#listeners.delete(listener);
    };
  }

  async verifySecret(username: string, password: string): Promise<boolean> {
    this.verifyCalls += 1;

    if (this.failure !== undefined) {
      throw this.failure;
    }

    const principal = this.#snapshot.principals.get(username);
    const stored = this.#secrets.get(username);

    if (principal?.enabled !== true || stored === undefined) {
      return false;
    }

    const { salt, hash } = await stored;
    const given = await hashSecret(password, salt);

    return timingSafeEqual(given, hash);
  }

  secretStamp(username: string): string | undefined {
    return this.#snapshot.principals.has(username) ? this.#stamps.get(username) : undefined;
  }

  /** Replaces the whole directory and tells every listener, as a committed change would. */
  replace(input: DirectoryInput): DirectorySnapshot {
    this.#snapshot = this.#build(input, this.#snapshot.revision + 1);

    for (const listener of this.#listeners) {
      listener(this.#snapshot);
    }

    return this.#snapshot;
  }

  /** Applies a change to the current picture (principals keep their secrets unless given). */
  update(change: (current: DirectoryInput) => DirectoryInput): DirectorySnapshot {
    return this.replace(change(this.#input()));
  }

  #input(): DirectoryInput {
    const snapshot = this.#snapshot;

    return {
      principals: [...snapshot.principals.values()],
      grants: snapshot.grants,
      rules: snapshot.rules,
      trustKeys: snapshot.trustKeys,
      issuer: snapshot.issuer,
    };
  }

  #build(input: DirectoryInput, revision: number): DirectorySnapshot {
    const principals = new Map<string, Principal>();

    for (const entry of input.principals ?? []) {
      principals.set(entry.id, {
        id: entry.id,
        kind: entry.kind,
        enabled: entry.enabled ?? true,
        superuser: entry.superuser ?? false,
        groups: entry.groups ?? [],
      });

      if (entry.secret !== undefined) {
        const salt = randomBytes(SALT_BYTES);
        const secret = entry.secret;
        this.#secrets.set(
          entry.id,
          hashSecret(secret, salt).then((hash) => ({ salt, hash })),
        );
        this.#secretsSet += 1;
        this.#stamps.set(entry.id, String(this.#secretsSet));
      }
    }

    return {
      revision,
      principals,
      grants: input.grants ?? [],
      rules: input.rules ?? [],
      trustKeys: input.trustKeys ?? [],
      issuer: input.issuer ?? 'https://auth.beckon.test',
    };
  }
}
