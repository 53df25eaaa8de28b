/** A value bound to a `?` placeholder. Booleans are stored as 0/1, JSON as text. */
export type SqlValue = string | number | null;

export type SqlRow = Readonly<Record<string, unknown>>;

/** Runs statements inside one open transaction. SQL uses `?` placeholders in both dialects. */
export interface SqlExecutor {
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export type TransactionMode = 'read' | 'write';

/** The little that differs between SQLite and PostgreSQL; the SQL itself is shared. */
export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  transaction<T>(mode: TransactionMode, fn: (sql: SqlExecutor) => Promise<T>): Promise<T>;
  /** Inside a write transaction: keeps other processes out of the migrations. */
  lockForMigration(sql: SqlExecutor): Promise<void>;
  /** Inside a write transaction: tells other replicas once it commits. */
  announce(sql: SqlExecutor, revision: number): Promise<void>;
  /** Calls `onSignal` when another connection may have committed a change. */
  watch(onSignal: () => void): () => void;
  close(): Promise<void>;
}
