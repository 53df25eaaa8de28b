import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreDirectory } from '../src/directory/store-directory.js';
import type { DirectorySnapshot } from '../src/directory/types.js';
import { migrate, MIGRATIONS } from '../src/store/migrations.js';
import { openStore } from '../src/store/open-store.js';
import { PostgresDriver } from '../src/store/postgres-driver.js';
import { SqliteDriver } from '../src/store/sqlite-driver.js';
import { SqlStore } from '../src/store/sql-store.js';
import type { Store, StoreWriter } from '../src/store/store.js';
import { BACKENDS, nextValue, silentLogger, type TestDatabase } from './helpers/backends.js';

const HASH =
  '$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U';

async function addAgent(writer: StoreWriter, id: string, groups: string[] = []): Promise<void> {
  await writer.insertPrincipal({
    id,
    kind: 'agent',
    enabled: true,
    superuser: false,
    secretHash: HASH,
  });

  for (const group of groups) {
    await writer.addMember(group, id);
  }

  await writer.audit({ action: 'agent.create', target: `agent:${id}` });
}

describe.each(BACKENDS)('store on $name', (backend) => {
  let database: TestDatabase;
  let store: Store;
  const extraStores: Store[] = [];

  beforeEach(async () => {
    database = await backend.create();
    store = await openStore(database.config, silentLogger);
  });

  afterEach(async () => {
    try {
      await Promise.all(extraStores.splice(0).map((extra) => extra.close()));
      await store.close();
    } finally {
      await database.drop();
    }
  });

  async function replica(): Promise<Store> {
    const extra = await openStore(database.config, silentLogger);

    extraStores.push(extra);

    return extra;
  }

  function driverFor(): SqliteDriver | PostgresDriver {
    const config = database.config;

    return config.kind === 'sqlite'
      ? new SqliteDriver(config.path)
      : new PostgresDriver(config.url, silentLogger);
  }

  it('applies each migration once and records it', async () => {
    const driver = driverFor();

    try {
      expect(await migrate(driver)).toEqual([]);

      const rows = await driver.transaction('read', (sql) =>
        sql.all('SELECT version FROM schema_migrations ORDER BY version'),
      );

      expect(rows.map((row) => Number(row.version))).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await driver.close();
    }
  });

  it('refuses a store whose schema is newer than this code', async () => {
    const driver = driverFor();

    try {
      // The database already holds migration 1; code that knows no migrations is older.
      await expect(migrate(driver, [])).rejects.toThrow(/newer than this service knows/);
    } finally {
      await driver.close();
    }
  });

  it('keeps a principal with its groups and secret hash', async () => {
    await store.mutate('test', (writer) => addAgent(writer, 'web-1', ['eu', 'web']));

    const principal = await store.read((reader) => reader.getPrincipal('web-1'));

    expect(principal).toMatchObject({
      id: 'web-1',
      kind: 'agent',
      enabled: true,
      superuser: false,
      groups: ['eu', 'web'],
    });
    expect(await store.read((reader) => reader.getSecretHash('web-1'))).toBe(HASH);
  });

  it('bumps the revision once per committed change and audits who did it', async () => {
    const before = await store.read((reader) => reader.revision());

    await store.mutate('admin:t1', (writer) => addAgent(writer, 'a1'));
    await store.mutate('admin:t1', (writer) => addAgent(writer, 'a2'));

    const after = await store.read((reader) => reader.revision());
    const audit = await store.read((reader) => reader.listAudit(10));

    expect(after).toBe(before + 2);
    expect(audit.map((entry) => [entry.revision, entry.actor, entry.target])).toEqual([
      [after, 'admin:t1', 'agent:a2'],
      [after - 1, 'admin:t1', 'agent:a1'],
    ]);
    expect(await store.read((reader) => reader.listAudit(10, after))).toHaveLength(1);
  });

  it('leaves nothing behind when a write fails half-way', async () => {
    const before = await store.read((reader) => reader.revision());

    await expect(
      store.mutate('test', async (writer) => {
        await addAgent(writer, 'half', ['g1']);
        throw new Error('crash after the first rows');
      }),
    ).rejects.toThrow('crash after the first rows');

    expect(await store.read((reader) => reader.getPrincipal('half'))).toBeUndefined();
    expect(await store.read((reader) => reader.getGroup('g1'))).toBeUndefined();
    expect(await store.read((reader) => reader.getSecretHash('half'))).toBeUndefined();
    expect(await store.read((reader) => reader.revision())).toBe(before);
  });

  it('rolls back a write that breaks a constraint, keeping the earlier rows of it out too', async () => {
    await store.mutate('test', (writer) => addAgent(writer, 'taken'));

    await expect(
      store.mutate('test', async (writer) => {
        await addAgent(writer, 'fresh');
        await addAgent(writer, 'taken');
      }),
    ).rejects.toThrow();

    expect(await store.read((reader) => reader.getPrincipal('fresh'))).toBeUndefined();
  });

  it('changes nothing, not even the revision, when a transaction records no audit entry', async () => {
    const before = await store.read((reader) => reader.revision());
    const result = await store.mutate('test', async (writer) => writer.revision());

    expect(result).toBe(before + 1);
    expect(await store.read((reader) => reader.revision())).toBe(before);
  });

  it('removes a principal with its secret, memberships, grants and rules', async () => {
    await store.mutate('test', async (writer) => {
      await addAgent(writer, 'agent-1', ['g']);
      await writer.insertPrincipal({
        id: 'app-1',
        kind: 'app',
        enabled: true,
        superuser: false,
        secretHash: HASH,
      });
      await writer.insertGrant({ id: 'gr_1', appId: 'app-1', agents: ['agent-1'], groups: [] });
      await writer.insertRule({
        id: 'ru_1',
        subject: { kind: 'principal', id: 'app-1' },
        pattern: 'x/#',
        access: ['read'],
        effect: 'allow',
      });
    });

    await store.mutate('test', async (writer) => {
      await writer.deletePrincipal('app-1');
      await writer.deletePrincipal('agent-1');
      await writer.audit({ action: 'remove', target: 'both' });
    });

    await store.read(async (reader) => {
      expect(await reader.listPrincipals()).toEqual([]);
      expect(await reader.listGrants()).toEqual([]);
      expect(await reader.listRules()).toEqual([]);
      expect(await reader.listSecretHashes()).toEqual(new Map());
      expect((await reader.getGroup('g'))?.members).toEqual([]);
    });
  });

  it('keeps grants, rules with every subject kind, and optional action lists', async () => {
    await store.mutate('test', async (writer) => {
      await writer.insertPrincipal({
        id: 'app-1',
        kind: 'app',
        enabled: true,
        superuser: false,
        secretHash: HASH,
      });
      await writer.insertGrant({ id: 'gr_a', appId: 'app-1', agents: ['x'], groups: [] });
      await writer.insertGrant({
        id: 'gr_b',
        appId: 'app-1',
        agents: [],
        groups: ['web'],
        actions: ['restart'],
      });

      for (const [id, subject] of [
        ['ru_p', { kind: 'principal', id: 'app-1' }],
        ['ru_g', { kind: 'group', name: 'web' }],
        ['ru_a', { kind: 'all' }],
      ] as const) {
        await writer.insertRule({
          id,
          subject,
          pattern: 'a/%u/+',
          access: ['write'],
          effect: 'deny',
        });
      }

      await writer.audit({ action: 'setup', target: 'app:app-1' });
    });

    const grants = await store.read((reader) => reader.listGrants('app-1'));
    const rules = await store.read((reader) => reader.listRules());

    expect(grants.map(({ createdAt: _c, ...grant }) => grant)).toEqual([
      { id: 'gr_a', appId: 'app-1', agents: ['x'], groups: [] },
      { id: 'gr_b', appId: 'app-1', agents: [], groups: ['web'], actions: ['restart'] },
    ]);
    expect(rules.map((rule) => rule.subject)).toEqual(
      expect.arrayContaining([
        { kind: 'principal', id: 'app-1' },
        { kind: 'group', name: 'web' },
        { kind: 'all' },
      ]),
    );
  });

  it('consumes enrollment tokens only while uses remain, in date and not revoked', async () => {
    const now = Date.now();

    await store.mutate('test', async (writer) => {
      await writer.insertEnrollToken({
        id: 'et_two',
        digest: 'd2',
        expiresAt: now + 60_000,
        usesAllowed: 2,
        groups: ['web'],
      });
      await writer.insertEnrollToken({
        id: 'et_old',
        digest: 'd0',
        expiresAt: now - 1,
        usesAllowed: 5,
        groups: [],
      });
      await writer.audit({ action: 'tokens', target: 'enroll-token:*' });
    });

    const consumed: boolean[] = [];

    for (let attempt = 0; attempt < 3; attempt += 1) {
      consumed.push(
        await store.mutate('test', async (writer) => {
          const used = await writer.consumeEnrollToken('et_two', now);

          await writer.audit({ action: 'consume', target: 'enroll-token:et_two' });

          return used;
        }),
      );
    }

    expect(consumed).toEqual([true, true, false]);
    expect(await store.mutate('test', (writer) => writer.consumeEnrollToken('et_old', now))).toBe(
      false,
    );
    expect((await store.read((reader) => reader.findEnrollToken('d2')))?.usesCount).toBe(2);
  });

  it('keeps trust keys with their status through a rotation', async () => {
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } as const;

    await store.mutate('test', async (writer) => {
      await writer.insertTrustKey({
        kid: 'k1',
        alg: 'EdDSA',
        publicJwk: jwk,
        privateJwk: '{}',
        status: 'active',
      });
      await writer.audit({ action: 'trust.create', target: 'trust-key:k1' });
    });
    await store.mutate('test', async (writer) => {
      await writer.setTrustKeyStatus('k1', 'retiring', 1_000);
      await writer.insertTrustKey({
        kid: 'k2',
        alg: 'EdDSA',
        publicJwk: jwk,
        privateJwk: '{}',
        status: 'active',
      });
      await writer.audit({ action: 'trust.rotate', target: 'trust-key:k2' });
    });

    const keys = await store.read((reader) => reader.listTrustKeys());

    expect(keys.map((key) => [key.kid, key.status, key.retiredAt])).toEqual([
      ['k1', 'retiring', 1_000],
      ['k2', 'active', undefined],
    ]);
  });

  it('tells a second store on the same database about a change committed by the first', async () => {
    const other = await replica();
    const seen = nextValue<number>((deliver) => other.onRevision(deliver));
    const before = await store.read((reader) => reader.revision());

    await store.mutate('test', (writer) => addAgent(writer, 'from-replica-a'));

    expect(await seen).toBe(before + 1);
    expect(await other.read((reader) => reader.getPrincipal('from-replica-a'))).toBeDefined();
  });

  it('catches up with a change committed before a replica started watching', async () => {
    const other = await replica();
    const before = await store.read((reader) => reader.revision());

    await store.mutate('test', (writer) => addAgent(writer, 'early'));

    // Nothing is committed after this point: only a look at subscription time can see it.
    expect(await nextValue<number>((deliver) => other.onRevision(deliver))).toBe(before + 1);
  });

  it('refreshes a directory on another replica, so a disable holds everywhere', async () => {
    await store.mutate('test', (writer) => addAgent(writer, 'roaming'));

    const other = await replica();
    const directory = await StoreDirectory.open(other, 'beckon-test', silentLogger);

    try {
      expect(directory.current().principals.get('roaming')?.enabled).toBe(true);

      const changed = nextValue<DirectorySnapshot>((deliver) => directory.onChange(deliver));

      await store.mutate('test', async (writer) => {
        await writer.updatePrincipal('roaming', { enabled: false });
        await writer.audit({ action: 'agent.disable', target: 'agent:roaming' });
      });

      expect((await changed).principals.get('roaming')?.enabled).toBe(false);
    } finally {
      directory.close();
    }
  });

  it('lets only one of two replicas take the last use of a token', async () => {
    await store.mutate('test', async (writer) => {
      await writer.insertEnrollToken({
        id: 'et_last',
        digest: 'dl',
        expiresAt: Date.now() + 60_000,
        usesAllowed: 1,
        groups: [],
      });
      await writer.audit({ action: 'token', target: 'enroll-token:et_last' });
    });

    const other = await replica();
    const take = (target: Store) =>
      target.mutate('test', async (writer) => {
        const used = await writer.consumeEnrollToken('et_last', Date.now());

        await writer.audit({ action: 'consume', target: 'enroll-token:et_last' });

        return used;
      });
    const results = await Promise.all([take(store), take(other)]);

    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe('store on postgres, change notification', () => {
  it('reaches another replica through LISTEN/NOTIFY, not only the revision poll', async () => {
    const database = await BACKENDS[1].create();
    const config = database.config;

    if (config.kind !== 'postgres') {
      throw new Error('expected a PostgreSQL database');
    }

    const writer = await openStore(config, silentLogger);
    // A poll this slow never fires during the test, so only a notification can arrive.
    const listener = await SqlStore.open(
      new PostgresDriver(config.url, silentLogger, { revisionPollIntervalMs: 3_600_000 }),
      silentLogger,
    );

    try {
      const seen = nextValue<number>(
        (deliver) => listener.onRevision(deliver),
        (revision) => revision > 0,
      );

      const progress = { heard: false };

      void seen.then(() => {
        progress.heard = true;
      });

      // The LISTEN connection starts asynchronously: commit until a notification is heard.
      for (let attempt = 0; !progress.heard && attempt < 50; attempt += 1) {
        await writer.mutate('test', (tx) => addAgent(tx, `n-${attempt}`));
        await Promise.race([seen, delay(100)]);
      }

      expect(await seen).toBeGreaterThan(0);
    } finally {
      await listener.close();
      await writer.close();
      await database.drop();
    }
  });
});
