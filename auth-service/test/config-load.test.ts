import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';

describe('configuration', () => {
  const folder = mkdtempSync(join(tmpdir(), 'beckon-config-'));

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const path = join(folder, name);

    writeFileSync(path, text);

    return path;
  }

  it('has working defaults: SQLite and the three listeners', () => {
    const config = loadConfig({ env: {} });

    expect(config.store).toEqual({ kind: 'sqlite', path: 'beckon-auth.db' });
    expect(config.listeners).toEqual({
      broker: { host: '127.0.0.1', port: 8181 },
      admin: { host: '127.0.0.1', port: 8182 },
      public: { host: '0.0.0.0', port: 8183 },
    });
    expect(config.credentials.appCredentialTtlSeconds).toBe(600);
  });

  it('reads YAML, resolves relative paths against the file, and lets the environment win', () => {
    const path = file(
      'auth.yaml',
      'store: { kind: sqlite, path: data/auth.db }\nissuer: from-file\nlisteners:\n  admin: { port: 9000 }\nbrokerChecks:\n  maxBodyBytes: 4096\n',
    );
    const config = loadConfig({
      file: path,
      env: { BECKON_AUTH_ISSUER: 'from-env', BECKON_AUTH_PUBLIC_PORT: '9001' },
    });

    expect(config.store).toEqual({ kind: 'sqlite', path: join(folder, 'data/auth.db') });
    expect(config.issuer).toBe('from-env');
    expect(config.listeners.admin).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(config.listeners.public.port).toBe(9001);
    expect(config.brokerChecks.maxBodyBytes).toBe(4_096);
  });

  it('takes the file from BECKON_AUTH_CONFIG and a PostgreSQL store from the environment', () => {
    const path = file('plain.json', '{"issuer": "json-file"}');
    const config = loadConfig({
      env: { BECKON_AUTH_CONFIG: path, BECKON_AUTH_POSTGRES_URL: 'postgres://db/auth' },
    });

    expect(config.issuer).toBe('json-file');
    expect(config.store).toEqual({ kind: 'postgres', url: 'postgres://db/auth' });
  });

  it('is frozen', () => {
    const config = loadConfig({ env: {} });

    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.listeners.admin)).toBe(true);
  });

  it('names the key and the file in an error', () => {
    const path = file('bad.yaml', 'listeners:\n  admin: { port: 70000 }\nunknownKey: 1\n');

    expect(() => loadConfig({ file: path, env: {} })).toThrow(
      `config key listeners.admin.port in ${path}`,
    );
    expect(() => loadConfig({ file: path, env: {} })).toThrow(/unknownKey/);
  });

  it('names the environment variable in an error', () => {
    expect(() => loadConfig({ env: { BECKON_AUTH_ADMIN_PORT: 'eighty' } })).toThrow(
      /environment variable BECKON_AUTH_ADMIN_PORT \(config key listeners\.admin\.port\)/,
    );
    expect(() => loadConfig({ env: { BECKON_AUTH_LOG_LEVEL: 'loud' } })).toThrow(
      /BECKON_AUTH_LOG_LEVEL/,
    );
  });

  it('refuses an unknown BECKON_AUTH_ variable and two stores at once', () => {
    expect(() => loadConfig({ env: { BECKON_AUTH_ISUER: 'typo' } })).toThrow(
      /unknown environment variable BECKON_AUTH_ISUER/,
    );
    expect(() =>
      loadConfig({
        env: { BECKON_AUTH_SQLITE_PATH: 'a.db', BECKON_AUTH_POSTGRES_URL: 'postgres://x/y' },
      }),
    ).toThrow(/only one of/);
  });

  it('reports a file that is missing or not YAML', () => {
    expect(() => loadConfig({ file: join(folder, 'missing.yaml'), env: {} })).toThrow(
      /cannot read config file/,
    );
    expect(() => loadConfig({ file: file('broken.yaml', 'a: [1,\n'), env: {} })).toThrow(
      /not valid YAML/,
    );
  });
});
