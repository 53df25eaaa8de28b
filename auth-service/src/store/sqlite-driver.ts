import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue, TransactionMode } from './sql-driver.js';

/** How long a writer waits for another connection's write lock before giving up. */
const BUSY_TIMEOUT_MS = 5_000;

/** Pause between attempts to take the write lock. */
const BUSY_RETRY_DELAY_MS = 5;

/**
 * How often to look for commits by other processes on the same file (the CLI's import, a
 * second service). `PRAGMA data_version` costs microseconds, so the poll can be frequent.
 */
const CHANGE_POLL_INTERVAL_MS = 250;

/** SQLite through better-sqlite3: one file, WAL journal, one connection per process. */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite';
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  // better-sqlite3 is synchronous, but transaction bodies are async: queue them so two never
  // interleave on the one connection.
  #queue: Promise<unknown> = Promise.resolve();
  #inTransaction = false;

  constructor(path: string) {
    // No busy timeout inside SQLite: it would wait by blocking the event loop (and with it every
    // broker check). Taking the write lock is retried asynchronously instead; in WAL mode
    // readers never wait.
    this.#db = new Database(path, { timeout: 0 });
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
  }

  transaction<T>(mode: TransactionMode, fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => this.#runTransaction(mode, fn));

    this.#queue = run.catch(() => undefined);

    return run;
  }

  async #runTransaction<T>(
    mode: TransactionMode,
    fn: (sql: SqlExecutor) => Promise<T>,
  ): Promise<T> {
    if (mode === 'write') {
      await this.#beginImmediate();
    } else {
      this.#db.exec('BEGIN');
    }

    this.#inTransaction = true;

    try {
      const result = await fn(this.#executor());

      this.#db.exec('COMMIT');

      return result;
    } catch (error) {
      if (this.#db.inTransaction) {
        this.#db.exec('ROLLBACK');
      }

      throw error;
    } finally {
      this.#inTransaction = false;
    }
  }

  async #beginImmediate(): Promise<void> {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;

    for (;;) {
      try {
        this.#db.exec('BEGIN IMMEDIATE');

        return;
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) {
          throw error;
        }
      }

      await delay(BUSY_RETRY_DELAY_MS);
    }
  }

  #executor(): SqlExecutor {
    return {
      all: (sql, params) => Promise.resolve(this.#all(sql, params ?? [])),
      run: (sql, params) => Promise.resolve(this.#run(sql, params ?? [])),
    };
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);

    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }

    return statement;
  }

  #all(sql: string, params: readonly SqlValue[]): SqlRow[] {
    const statement = this.#statement(sql);

    if (!statement.reader) {
      statement.run(...params);

      return [];
    }

    return statement.all(...params) as SqlRow[];
  }

  #run(sql: string, params: readonly SqlValue[]): number {
    const statement = this.#statement(sql);

    if (statement.reader) {
      statement.all(...params);

      return 0;
    }

    return statement.run(...params).changes;
  }

  lockForMigration(): Promise<void> {
    // BEGIN IMMEDIATE already holds the file's write lock.
    return Promise.resolve();
  }

  announce(): Promise<void> {
    // Other processes notice the commit through data_version.
    return Promise.resolve();
  }

  watch(onSignal: () => void): () => void {
    let seen = this.#dataVersion();
    const timer = setInterval(() => {
      if (this.#inTransaction || !this.#db.open) {
        return;
      }

      const version = this.#dataVersion();

      if (version !== seen) {
        seen = version;
        onSignal();
      }
    }, CHANGE_POLL_INTERVAL_MS);

    timer.unref();

    return () => clearInterval(timer);
  }

  #dataVersion(): number {
    return Number(this.#db.pragma('data_version', { simple: true }));
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#db.close();
  }
}

function isBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_BUSY';
}
