import pg from 'pg';
import type { Logger } from 'pino';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue, TransactionMode } from './sql-driver.js';

/** The NOTIFY channel every replica listens on; the payload is the new revision. */
const CHANGE_CHANNEL = 'beckon_auth_changes';

/**
 * Safety net under LISTEN/NOTIFY: a notification is lost while the listening connection is
 * down, so every replica also compares the stored revision this often.
 */
const DEFAULT_REVISION_POLL_INTERVAL_MS = 2_000;

/** Wait before re-opening a dropped LISTEN connection. */
const LISTEN_RECONNECT_DELAY_MS = 1_000;

const POOL_SIZE = 8;

// Keeps concurrently starting replicas from running the same migration twice.
const MIGRATION_LOCK_KEY = 727_201;

function numbered(sql: string): string {
  let index = 0;

  return sql.replace(/\?/g, () => {
    index += 1;

    return `$${index}`;
  });
}

/** PostgreSQL through `pg`: a pool for queries, one extra connection for LISTEN. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres';
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #logger: Logger;
  readonly #pollIntervalMs: number;
  // LISTEN connections being opened or closed; close() waits for them, so no connection to
  // the database outlives the driver.
  readonly #pending = new Set<Promise<void>>();

  constructor(
    url: string,
    logger: Logger,
    options: { readonly revisionPollIntervalMs?: number } = {},
  ) {
    this.#url = url;
    this.#logger = logger;
    this.#pollIntervalMs = options.revisionPollIntervalMs ?? DEFAULT_REVISION_POLL_INTERVAL_MS;
    this.#pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
    this.#pool.on('error', (err) => this.#logger.warn({ err }, 'idle store connection failed'));
  }

  async transaction<T>(mode: TransactionMode, fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;

    try {
      await client.query(
        mode === 'write' ? 'BEGIN' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      );

      const result = await fn(executor(client));

      await client.query('COMMIT');

      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error('rollback failed');
      }

      throw error;
    } finally {
      // A connection that could not roll back is destroyed rather than reused.
      client.release(broken);
    }
  }

  async lockForMigration(sql: SqlExecutor): Promise<void> {
    await sql.all('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
  }

  async announce(sql: SqlExecutor, revision: number): Promise<void> {
    await sql.all('SELECT pg_notify(?, ?)', [CHANGE_CHANNEL, String(revision)]);
  }

  watch(onSignal: () => void): () => void {
    let stopped = false;
    let client: pg.Client | undefined;
    let reconnectTimer: NodeJS.Timeout | undefined;

    const listen = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: this.#url });

      next.on('notification', () => onSignal());
      next.on('error', (err) => {
        this.#logger.warn({ err }, 'store change listener failed');
        scheduleReconnect(next);
      });

      try {
        await next.connect();
        await next.query(`LISTEN ${CHANGE_CHANNEL}`);
      } catch (err) {
        this.#logger.warn({ err }, 'store change listener could not start');
        scheduleReconnect(next);

        return;
      }

      if (stopped) {
        await next.end();

        return;
      }

      client = next;
      // Anything committed while the listener was down is picked up now.
      onSignal();
    };

    const scheduleReconnect = (failed: pg.Client): void => {
      this.#track(failed.end());

      if (client === failed) {
        client = undefined;
      }

      if (stopped || reconnectTimer !== undefined) {
        return;
      }

      reconnectTimer = setTimeout(() => {
        reconnectTimer = undefined;
        this.#track(listen());
      }, LISTEN_RECONNECT_DELAY_MS);
    };

    const poll = setInterval(onSignal, this.#pollIntervalMs);

    poll.unref();
    this.#track(listen());

    return () => {
      stopped = true;
      clearInterval(poll);
      clearTimeout(reconnectTimer);
      if (client !== undefined) {
        this.#track(client.end());
      }

      client = undefined;
    };
  }

  #track(work: Promise<void>): void {
    const settled = work.catch(() => undefined);

    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }

  async close(): Promise<void> {
    while (this.#pending.size > 0) {
      await Promise.all([...this.#pending]);
    }

    await this.#pool.end();
  }
}

function executor(client: pg.PoolClient): SqlExecutor {
  return {
    all: async (sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]> => {
      const result = await client.query(numbered(sql), params === undefined ? [] : [...params]);

      return result.rows as SqlRow[];
    },
    run: async (sql: string, params?: readonly SqlValue[]): Promise<number> => {
      const result = await client.query(numbered(sql), params === undefined ? [] : [...params]);

      return result.rowCount ?? 0;
    },
  };
}
