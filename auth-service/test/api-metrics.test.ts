import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestService, type TestService } from './helpers/service.js';

describe('admin and public answers in /metrics', () => {
  let test: TestService;

  beforeAll(async () => {
    test = await startTestService();
  });

  afterAll(async () => {
    await test.close();
  });

  const metric = async (listener: string, status: number): Promise<number> => {
    const text = (await call(`${test.adminUrl}/metrics`)).text;
    const line = text
      .split('\n')
      .find((candidate) =>
        candidate.startsWith(
          `beckon_auth_api_responses_total{listener="${listener}",status="${status}"} `,
        ),
      );

    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };

  it('counts answers by listener and status, failures of the store included', async () => {
    const admin = (path: string, body?: unknown) =>
      call(`${test.adminUrl}${path}`, {
        token: test.adminToken,
        ...(body === undefined ? {} : { body }),
      });

    expect((await admin('/v1/agents', { id: 'web-1' })).status).toBe(201);
    expect((await admin('/v1/nothing-here')).status).toBe(404);
    expect((await call(`${test.publicUrl}/healthz`)).status).toBe(200);

    // A real failure from the database, not a stand-in: a second connection to the same file
    // makes every new principal fail to insert, as a full disk or a broken schema would.
    const db = new Database(join(test.folder, 'auth.db'));

    try {
      db.exec(`CREATE TRIGGER fail_insert BEFORE INSERT ON principals
               BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
      expect((await admin('/v1/agents', { id: 'web-2' })).status).toBe(500);
    } finally {
      db.exec('DROP TRIGGER fail_insert');
      db.close();
    }

    expect(await metric('admin', 201)).toBe(1);
    expect(await metric('admin', 404)).toBe(1);
    expect(await metric('admin', 500)).toBe(1);
    expect(await metric('public', 200)).toBe(1);
    expect(test.service.directory.current().principals.has('web-2')).toBe(false);
  });
});
