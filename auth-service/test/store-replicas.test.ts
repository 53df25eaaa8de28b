import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthServiceConfig } from '../src/config/schema.js';
import type { DirectorySnapshot } from '../src/directory/types.js';
import { generateToken } from '../src/secrets/generate-secret.js';
import { tokenDigest } from '../src/secrets/token-digest.js';
import { startAuthService, type AuthService } from '../src/server.js';
import {
  createPostgresDatabase,
  nextValue,
  silentLogger,
  type TestDatabase,
} from './helpers/backends.js';
import { call, textAt } from './helpers/service.js';

describe('two replicas sharing one PostgreSQL store', () => {
  let database: TestDatabase;
  let replicas: AuthService[];
  const adminToken = generateToken('bat');

  beforeAll(async () => {
    database = await createPostgresDatabase();

    const config = AuthServiceConfig.parse({
      store: database.config,
      listeners: {
        admin: { port: 0 },
        public: { host: '127.0.0.1', port: 0 },
        broker: { port: 0 },
      },
    });

    // Started together, as a deployment would: only one may create the first trust key.
    replicas = await Promise.all([
      startAuthService({ config, logger: silentLogger }),
      startAuthService({ config, logger: silentLogger }),
    ]);
    await replicas[0]!.store.mutate('test', async (writer) => {
      await writer.insertAdminToken({
        id: 'at_test',
        name: 'test',
        digest: tokenDigest(adminToken),
      });
      await writer.audit({ action: 'admin-token.create', target: 'admin-token:at_test' });
    });
  });

  afterAll(async () => {
    try {
      await Promise.all(replicas.map((replica) => replica.close()));
    } finally {
      await database.drop();
    }
  });

  it('agrees on a single trust root', async () => {
    await Promise.all(replicas.map((replica) => replica.directory.refresh()));

    const [first, second] = replicas.map((replica) => replica.directory.current().trustKeys);

    expect(first).toHaveLength(1);
    expect(second).toEqual(first);
  });

  it('holds a revocation made through one replica on the other', async () => {
    const [a, b] = replicas as [AuthService, AuthService];
    const admin = (path: string, body?: unknown) =>
      call(`http://127.0.0.1:${a.ports.admin}${path}`, {
        token: adminToken,
        ...(body === undefined ? { method: 'POST' } : { body }),
      });
    const created = nextValue<DirectorySnapshot>(
      (deliver) => b.directory.onChange(deliver),
      (snapshot) => snapshot.principals.has('web-1'),
    );
    const secret = textAt((await admin('/v1/agents', { id: 'web-1' })).body, 'secret');

    await created;

    expect(await b.directory.verifySecret('web-1', secret)).toBe(true);

    const disabled = nextValue<DirectorySnapshot>(
      (deliver) => b.directory.onChange(deliver),
      (snapshot) => snapshot.principals.get('web-1')?.enabled === false,
    );

    await admin('/v1/agents/web-1/disable');
    await disabled;

    expect(await b.directory.verifySecret('web-1', secret)).toBe(false);
  });
});
