import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import type { StoreConfig } from '../../src/store/open-store.js';

export const silentLogger: Logger = pino({ level: 'silent' });

/** The machines' PostgreSQL: trust auth for user postgres on localhost. */
const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty store location and how to remove it. */
export interface TestDatabase {
  readonly config: StoreConfig;
  drop(): Promise<void>;
}

export function createSqliteDatabase(): Promise<TestDatabase> {
  const folder = mkdtempSync(join(tmpdir(), 'beckon-auth-store-'));

  return Promise.resolve({
    config: { kind: 'sqlite', path: join(folder, 'auth.db') },
    drop: () => {
      rmSync(folder, { recursive: true, force: true });

      return Promise.resolve();
    },
  });
}

export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `beckon_auth_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });

  await admin.connect();

  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }

  return {
    config: { kind: 'postgres', url: `postgres://postgres@127.0.0.1:5432/${name}` },
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });

      await client.connect();

      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export const BACKENDS = [
  { name: 'sqlite', create: createSqliteDatabase },
  { name: 'postgres', create: createPostgresDatabase },
] as const;

/** Resolves with the first value `listen` delivers that satisfies `accept`. */
export function nextValue<T>(
  listen: (deliver: (value: T) => void) => () => void,
  accept: (value: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const stop = listen((value) => {
      if (accept(value)) {
        stop();
        resolve(value);
      }
    });
  });
}
