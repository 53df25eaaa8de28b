import type { TrustRoot, TrustRootSigner } from '@beckon/shared';
import type { Logger } from 'pino';
import { verifyAgainstDecoy, verifyHash } from '../secrets/verify-hash.js';
import type { TrustKeyRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
import { signerOf, trustRootOf } from '../trust/trust-keys.js';
import { Interner } from './interner.js';
import type {
  AclAccess,
  AclRule,
  AclSubject,
  AppGrant,
  DirectorySnapshot,
  DirectorySource,
  Principal,
  TrustKey,
} from './types.js';

interface Loaded {
  readonly snapshot: DirectorySnapshot;
  readonly hashes: ReadonlyMap<string, string>;
  readonly trustKeys: readonly TrustKeyRecord[];
}

/**
 * The decision engine's view of the store: an immutable snapshot in memory, rebuilt after
 * every committed change (local writes, other processes, other replicas).
 */
export class StoreDirectory implements DirectorySource {
  readonly #store: Store;
  readonly #issuer: string;
  readonly #logger: Logger;
  readonly #listeners = new Set<(snapshot: DirectorySnapshot) => void>();
  readonly #signers = new Map<string, Promise<TrustRootSigner>>();
  #loaded: Loaded;
  #reloading: Promise<void> | undefined;
  #stopWatching: () => void;

  private constructor(store: Store, issuer: string, logger: Logger, loaded: Loaded) {
    this.#store = store;
    this.#issuer = issuer;
    this.#logger = logger;
    this.#loaded = loaded;
    this.#stopWatching = store.onRevision((revision) => this.ensureRevision(revision));
  }

  static async open(store: Store, issuer: string, logger: Logger): Promise<StoreDirectory> {
    return new StoreDirectory(store, issuer, logger, await load(store, issuer));
  }

  current(): DirectorySnapshot {
    return this.#loaded.snapshot;
  }

  onChange(listener: (snapshot: DirectorySnapshot) => void): () => void {
    this.#listeners.add(listener);

    return () => this.#listeners.delete(listener);
  }

  async verifySecret(username: string, password: string): Promise<boolean> {
    const principal = this.#loaded.snapshot.principals.get(username);
    const hash = this.#loaded.hashes.get(username);

    try {
      if (principal === undefined || !principal.enabled || hash === undefined) {
        return await verifyAgainstDecoy(password);
      }

      const matches = await verifyHash(hash, password);

      // A disable committed while the hash was being computed still counts.
      return matches && this.#loaded.snapshot.principals.get(username)?.enabled === true;
    } catch (err) {
      this.#logger.error({ err, principalId: username }, 'secret check failed');

      return false;
    }
  }

  // The stored hash itself: every new secret gets a new random salt, so the hash changes with
  // the secret. Only compared for equality, never shown.
  secretStamp(username: string): string | undefined {
    return this.#loaded.hashes.get(username);
  }

  /** The trust root agents should hold now: every active and retiring key. */
  trustRoot(): TrustRoot {
    return trustRootOf(this.#loaded.trustKeys, this.#issuer);
  }

  /** The active key's signer, or undefined while the store holds no active key. */
  async activeSigner(): Promise<TrustRootSigner | undefined> {
    const active = this.#loaded.trustKeys.find((key) => key.status === 'active');

    if (active === undefined) {
      return undefined;
    }

    let signer = this.#signers.get(active.kid);

    if (signer === undefined) {
      signer = signerOf(active);
      this.#signers.set(active.kid, signer);
    }

    return signer;
  }

  /** Resolves once the snapshot reflects at least `revision`. */
  async ensureRevision(revision: number): Promise<void> {
    while (this.#loaded.snapshot.revision < revision) {
      await this.refresh();
    }
  }

  /** Reloads from the store; concurrent callers share one reload started after their call. */
  async refresh(): Promise<void> {
    while (this.#reloading !== undefined) {
      await this.#reloading;
    }

    this.#reloading = this.#reload();

    try {
      await this.#reloading;
    } finally {
      this.#reloading = undefined;
    }
  }

  async #reload(): Promise<void> {
    const loaded = await load(this.#store, this.#issuer);

    if (loaded.snapshot.revision <= this.#loaded.snapshot.revision) {
      return;
    }

    this.#loaded = loaded;
    this.#forgetRetiredSigners();
    this.#logger.debug({ revision: loaded.snapshot.revision }, 'directory reloaded');

    for (const listener of [...this.#listeners]) {
      try {
        listener(loaded.snapshot);
      } catch (err) {
        this.#logger.error({ err }, 'directory listener failed');
      }
    }
  }

  #forgetRetiredSigners(): void {
    const kids = new Set(this.#loaded.trustKeys.map((key) => key.kid));

    for (const kid of this.#signers.keys()) {
      if (!kids.has(kid)) {
        this.#signers.delete(kid);
      }
    }
  }

  close(): void {
    this.#stopWatching();
    this.#listeners.clear();
  }
}

async function load(store: Store, issuer: string): Promise<Loaded> {
  return store.read(async (reader) => {
    const revision = await reader.revision();
    const principals = await reader.listPrincipals();
    const grants = await reader.listGrants();
    const rules = await reader.listRules();
    const trustKeys = await reader.listTrustKeys();
    const hashes = await reader.listSecretHashes();

    const shared = new Interner();
    const snapshot: DirectorySnapshot = Object.freeze({
      revision,
      principals: new Map(
        principals.map((record): [string, Principal] => {
          const id = shared.string(record.id);

          return [
            id,
            Object.freeze({
              id,
              kind: record.kind,
              enabled: record.enabled,
              superuser: record.superuser,
              groups: shared.list(record.groups),
            }),
          ];
        }),
      ),
      grants: Object.freeze(
        grants.map((grant): AppGrant =>
          Object.freeze({
            id: grant.id,
            appId: shared.string(grant.appId),
            agents: shared.list(grant.agents),
            groups: shared.list(grant.groups),
            ...(grant.actions === undefined ? {} : { actions: shared.list(grant.actions) }),
          }),
        ),
      ),
      rules: Object.freeze(
        rules.map((rule): AclRule =>
          Object.freeze({
            id: rule.id,
            subject: Object.freeze(internSubject(rule.subject, shared)),
            pattern: shared.string(rule.pattern),
            access: shared.list(rule.access) as readonly AclAccess[],
            effect: rule.effect,
          }),
        ),
      ),
      trustKeys: Object.freeze(
        trustKeys.map((key): TrustKey =>
          Object.freeze({ kid: key.kid, publicJwk: key.publicJwk, status: key.status }),
        ),
      ),
      issuer,
    });

    return {
      snapshot,
      hashes: new Map([...hashes].map(([id, hash]) => [shared.string(id), hash])),
      trustKeys,
    };
  });
}

function internSubject(subject: AclSubject, shared: Interner): AclSubject {
  switch (subject.kind) {
    case 'principal':
      return { kind: 'principal', id: shared.string(subject.id) };
    case 'group':
      return { kind: 'group', name: shared.string(subject.name) };
    case 'all':
      return { kind: 'all' };
  }
}
