import type { Logger } from 'pino';
import { PostgresDriver } from './postgres-driver.js';
import { SqliteDriver } from './sqlite-driver.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** Opens the configured store and brings its schema up to date. */
export async function openStore(config: StoreConfig, logger: Logger): Promise<Store> {
  switch (config.kind) {
    case 'sqlite':
      return SqlStore.open(new SqliteDriver(config.path), logger);
    case 'postgres':
      return SqlStore.open(new PostgresDriver(config.url, logger), logger);
  }
}
