import type { Logger } from 'pino';
import { migrate } from './migrations.js';
import { SqlAccess } from './sql-access.js';
import type { AuditEntry } from './records.js';
import type { SqlDriver } from './sql-driver.js';
import type { RevisionListener, Store, StoreReader, StoreWriter } from './store.js';

// Thrown inside a transaction that recorded no change, so it rolls back its revision bump.
class NothingChanged<T> extends Error {
  constructor(readonly result: T) {
    super('nothing changed');
  }
}

/** The store over either SQL driver; the SQL is the same for both. */
export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly #driver: SqlDriver;
  readonly #logger: Logger;
  readonly #listeners = new Set<RevisionListener>();
  #stopWatching: (() => void) | undefined;
  #announced = 0;
  #checking: Promise<void> | undefined;
  #closed = false;

  private constructor(driver: SqlDriver, logger: Logger) {
    this.kind = driver.dialect;
    this.#driver = driver;
    this.#logger = logger;
  }

  /** Opens the store, applying any pending migrations first. */
  static async open(driver: SqlDriver, logger: Logger): Promise<SqlStore> {
    try {
      const applied = await migrate(driver);

      if (applied.length > 0) {
        logger.info({ versions: applied, store: driver.dialect }, 'store migrated');
      }
    } catch (error) {
      await driver.close();

      throw error;
    }

    const store = new SqlStore(driver, logger);

    store.#announced = await store.read((reader) => reader.revision());

    return store;
  }

  read<T>(fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    return this.#driver.transaction('read', (sql) => fn(new SqlAccess(sql)));
  }

  async mutate<T>(actor: string, fn: (writer: StoreWriter) => Promise<T>): Promise<T> {
    let revision = 0;
    let entries: readonly AuditEntry[] = [];
    let outcome: T;

    try {
      outcome = await this.#driver.transaction('write', async (sql) => {
        // Taking the row lock first serialises writers across replicas.
        const [row] = await sql.all(
          'UPDATE meta SET revision = revision + 1 WHERE id = 1 RETURNING revision',
        );

        revision = Number(row?.revision);

        const access = new SqlAccess(sql, actor, revision);
        const result = await fn(access);

        if (access.entries.length === 0) {
          throw new NothingChanged(result);
        }

        entries = access.entries;

        await this.#driver.announce(sql, revision);

        return result;
      });
    } catch (error) {
      if (error instanceof NothingChanged) {
        return error.result as T;
      }

      throw error;
    }

    for (const entry of entries) {
      this.#logger.info(
        { actor, action: entry.action, target: entry.target, revision, ...idsOf(entry.target) },
        'change committed',
      );
    }

    // Always told, even when a poll saw this revision first: listeners make sure they are at
    // least this current before the caller hears that its change is done.
    await this.#announce(revision, true);

    return outcome;
  }

  onRevision(listener: RevisionListener): () => void {
    this.#listeners.add(listener);

    if (this.#stopWatching === undefined) {
      this.#stopWatching = this.#driver.watch(() => void this.#checkForChanges());
      // A change committed elsewhere before the watch began raises no signal: look once now.
      void this.#checkForChanges();
    }

    return () => {
      this.#listeners.delete(listener);

      if (this.#listeners.size === 0) {
        this.#stopWatching?.();
        this.#stopWatching = undefined;
      }
    };
  }

  async ping(): Promise<boolean> {
    try {
      await this.read((reader) => reader.revision());

      return true;
    } catch (err) {
      this.#logger.warn({ err }, 'store not reachable');

      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }

    this.#closed = true;
    this.#stopWatching?.();
    this.#stopWatching = undefined;
    await this.#checking;
    await this.#driver.close();
  }

  // Another process may have committed: compare revisions, and tell listeners once per change.
  async #checkForChanges(): Promise<void> {
    if (this.#checking !== undefined || this.#closed) {
      return;
    }

    this.#checking = (async () => {
      try {
        const revision = await this.read((reader) => reader.revision());

        await this.#announce(revision, false);
      } catch (err) {
        this.#logger.warn({ err }, 'store revision check failed');
      }
    })();

    await this.#checking;
    this.#checking = undefined;
  }

  async #announce(revision: number, always: boolean): Promise<void> {
    if (revision <= this.#announced && !always) {
      return;
    }

    this.#announced = Math.max(this.#announced, revision);

    for (const listener of [...this.#listeners]) {
      try {
        await listener(revision);
      } catch (err) {
        this.#logger.error({ err, revision }, 'revision listener failed');
      }
    }
  }
}

// Log lines about an agent or app carry its id under the usual key.
function idsOf(target: string): { agentId?: string; appId?: string } {
  if (target.startsWith('agent:')) {
    return { agentId: target.slice('agent:'.length) };
  }

  return target.startsWith('app:') ? { appId: target.slice('app:'.length) } : {};
}
