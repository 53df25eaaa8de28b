import type { SqlDriver } from './sql-driver.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Statements valid in both SQLite and PostgreSQL. */
  readonly statements: readonly string[];
}

// Forward-only. A released migration is never edited: a change to the schema is a new entry.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: [
      `CREATE TABLE meta (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL)`,
      `INSERT INTO meta (id, revision) VALUES (1, 0)`,
      `CREATE TABLE principals (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('agent', 'app')),
        enabled INTEGER NOT NULL,
        superuser INTEGER NOT NULL,
        public_jwk TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE secrets (
        principal_id TEXT PRIMARY KEY REFERENCES principals (id) ON DELETE CASCADE,
        hash TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE principal_groups (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL)`,
      `CREATE TABLE memberships (
        group_name TEXT NOT NULL REFERENCES principal_groups (name) ON DELETE CASCADE,
        principal_id TEXT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        PRIMARY KEY (group_name, principal_id)
      )`,
      `CREATE INDEX memberships_principal ON memberships (principal_id)`,
      `CREATE TABLE grants (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        agents_json TEXT NOT NULL,
        groups_json TEXT NOT NULL,
        actions_json TEXT,
        created_at BIGINT NOT NULL
      )`,
      `CREATE INDEX grants_app ON grants (app_id)`,
      `CREATE TABLE acl_rules (
        id TEXT PRIMARY KEY,
        subject_kind TEXT NOT NULL CHECK (subject_kind IN ('principal', 'group', 'all')),
        subject_value TEXT,
        pattern TEXT NOT NULL,
        access_json TEXT NOT NULL,
        effect TEXT NOT NULL CHECK (effect IN ('allow', 'deny')),
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE enroll_tokens (
        id TEXT PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        expires_at BIGINT NOT NULL,
        uses_allowed INTEGER NOT NULL,
        uses_count INTEGER NOT NULL,
        groups_json TEXT NOT NULL,
        agent_id TEXT,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      )`,
      `CREATE TABLE admin_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        digest TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      )`,
      `CREATE TABLE trust_keys (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        private_jwk TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'retiring')),
        created_at BIGINT NOT NULL,
        retired_at BIGINT
      )`,
      `CREATE TABLE audit_log (
        revision BIGINT NOT NULL,
        seq INTEGER NOT NULL,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail_json TEXT,
        PRIMARY KEY (revision, seq)
      )`,
    ],
  },
];

/**
 * Applies every migration the database has not seen, all in one transaction, so a crash
 * half-way leaves the schema as it was. Returns the versions applied now.
 */
export async function migrate(
  driver: SqlDriver,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return driver.transaction('write', async (sql) => {
    await driver.lockForMigration(sql);
    await sql.run(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at BIGINT NOT NULL
      )`,
    );

    const rows = await sql.all('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => Number(row.version)));
    const known = new Set(migrations.map((migration) => migration.version));
    const unknown = [...applied].filter((version) => !known.has(version));

    if (unknown.length > 0) {
      throw new Error(
        `the store has schema version ${Math.max(...unknown)}, newer than this service knows; ` +
          'run a newer beckon-auth',
      );
    }

    const pending = migrations
      .filter((migration) => !applied.has(migration.version))
      .sort((a, b) => a.version - b.version);

    for (const migration of pending) {
      for (const statement of migration.statements) {
        await sql.run(statement);
      }

      await sql.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
    }

    return pending.map((migration) => migration.version);
  });
}
