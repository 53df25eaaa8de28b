import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@beckon/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthServiceConfig } from '../src/config/schema.js';
import { startAuthService } from '../src/server.js';
import { silentLogger } from './helpers/backends.js';

function listen(port: number): Promise<Server> {
  const server = createServer();

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('start-up', () => {
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup();
    }
  });

  it('fails when a port is taken, leaving no listener of its own behind', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'beckon-auth-service-'));

    cleanups.push(() => rmSync(folder, { recursive: true, force: true }));

    const taken = await listen(0);

    cleanups.push(() => closeServer(taken));

    const adminPort = await freePort();
    const config = AuthServiceConfig.parse({
      store: { kind: 'sqlite', path: join(folder, 'auth.db') },
      listeners: {
        admin: { port: adminPort },
        public: { host: '127.0.0.1', port: (taken.address() as { port: number }).port },
      },
    });

    await expect(startAuthService({ config, logger: silentLogger })).rejects.toThrow(/EADDRINUSE/);

    // The admin listener had started before the public one failed; its port is free again.
    const reused = await listen(adminPort);

    await closeServer(reused);
  });
});
