import type { Logger } from 'pino';
import { PostgresDriver } from './postgres-driver.js';
import { SqliteDriver } from './sqlite-driver.js';
import { SqlStore } from './sql-store.js';
import type { SqlDriver } from './sql-driver.js';
import type { Store } from './store.js';

export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** A connection to the configured database, without running migrations. */
export function createDriver(config: StoreConfig, logger: Logger): SqlDriver {
  switch (config.kind) {
    case 'sqlite':
      return new SqliteDriver(config.path);
    case 'postgres':
      return new PostgresDriver(config.url, logger);
  }
}

/** Opens the configured store and brings its schema up to date. */
export async function openStore(config: StoreConfig, logger: Logger): Promise<Store> {
  return SqlStore.open(createDriver(config, logger), logger);
}
