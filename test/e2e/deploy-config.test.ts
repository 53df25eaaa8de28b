import { fileURLToPath } from 'node:url';
import { loadConfig } from '@beckon/auth-service';
import { describe, expect, it } from 'vitest';

// The auth-service config files shipped in deploy/ must load with the service's own strict
// loader, with the store given the way compose and Kubernetes give it.

const file = (relative: string): string =>
  fileURLToPath(new URL(`../../deploy/${relative}`, import.meta.url));

describe('shipped auth-service configs', () => {
  it.each(['auth-service/auth.yaml', 'k8s/base/auth-service/auth.yaml'])(
    '%s loads with a SQLite or PostgreSQL store from BECKON_AUTH_STORE_URL',
    (path) => {
      const sqlite = loadConfig({
        file: file(path),
        env: { BECKON_AUTH_STORE_URL: 'sqlite:/var/lib/beckon-auth/beckon.db' },
      });
      const postgres = loadConfig({
        file: file(path),
        env: { BECKON_AUTH_STORE_URL: 'postgres://beckon:pw@postgres:5432/beckon' },
      });

      expect(sqlite.store).toEqual({ kind: 'sqlite', path: '/var/lib/beckon-auth/beckon.db' });
      expect(postgres.store).toEqual({
        kind: 'postgres',
        url: 'postgres://beckon:pw@postgres:5432/beckon',
      });
      expect(sqlite.listeners.broker.port).toBe(8181);
      expect(sqlite.publicUrl).toBe('https://auth.example.com');
      expect(sqlite.staticDir).toBe('/srv/beckon/agent');
    },
  );

  it('refuses a store URL of another kind without echoing it', () => {
    const load = (): unknown =>
      loadConfig({ env: { BECKON_AUTH_STORE_URL: 'mysql://root:hunter2@db/beckon' } });

    expect(load).toThrow(/STORE_URL must be sqlite:<path> or a postgres:\/\/ URL/);
    expect(load).not.toThrow(/hunter2/);
  });
});
