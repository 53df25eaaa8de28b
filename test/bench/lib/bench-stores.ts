import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreConfig } from '@beckon/auth-service';
import pg from 'pg';

/** The machine's PostgreSQL: trust auth for user postgres on loopback. */
const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE_NAME_BYTES = 6;

export type StoreKind = StoreConfig['kind'];

/** A fresh, empty store location of one kind, and how to remove it afterwards. */
export interface BenchStore {
  readonly config: StoreConfig;
  drop(): Promise<void>;
}

async function sqliteStore(): Promise<BenchStore> {
  const folder = await mkdtemp(join(tmpdir(), 'beckon-bench-store-'));

  return {
    config: { kind: 'sqlite', path: join(folder, 'auth.db') },
    drop: () => rm(folder, { recursive: true, force: true }),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });

  await client.connect();

  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

// A uniquely named database of our own, dropped (with its connections) when done.
async function postgresStore(): Promise<BenchStore> {
  const name = `beckon_bench_${randomBytes(DATABASE_NAME_BYTES).toString('hex')}`;

  await adminQuery(`CREATE DATABASE ${name}`);

  return {
    config: { kind: 'postgres', url: `postgres://postgres@127.0.0.1:5432/${name}` },
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export function createBenchStore(kind: StoreKind): Promise<BenchStore> {
  switch (kind) {
    case 'sqlite':
      return sqliteStore();
    case 'postgres':
      return postgresStore();
  }
}
