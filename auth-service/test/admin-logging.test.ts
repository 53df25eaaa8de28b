import { Writable } from 'node:stream';
import { generateSigningKeyPair } from '@beckon/shared';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { call, startTestService, textAt } from './helpers/service.js';

describe('change log', () => {
  it('logs who changed what at info, with ids, and never a secret or token', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
          done();
        },
      }),
    );
    const test = await startTestService({}, { logger });

    try {
      const admin = (path: string, body?: unknown) =>
        call(`${test.adminUrl}${path}`, {
          token: test.adminToken,
          ...(body === undefined ? {} : { body }),
        });
      const agentSecret = textAt((await admin('/v1/agents', { id: 'web-1' })).body, 'secret');
      const appSecret = textAt((await admin('/v1/apps', { id: 'deployer' })).body, 'secret');
      const enrollToken = textAt((await admin('/v1/enroll-tokens', {})).body, 'token');
      const enrolled = await call(`${test.publicUrl}/v1/enroll`, {
        body: { token: enrollToken, agentId: 'web-2' },
      });
      const credential = await call(`${test.adminUrl}/v1/credentials`, {
        basic: ['deployer', appSecret],
        body: { publicJwk: (await generateSigningKeyPair()).publicJwk },
      });
      const secrets = [
        agentSecret,
        appSecret,
        enrollToken,
        test.adminToken,
        textAt(enrolled.body, 'password'),
        textAt(credential.body, 'credential'),
      ];
      const log = lines.join('\n');

      for (const secret of secrets) {
        expect(log).not.toContain(secret);
      }

      const changes = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((event) => event.msg === 'change committed');

      expect(changes).toContainEqual(
        expect.objectContaining({
          level: 30,
          actor: 'admin:at_test',
          action: 'agent.create',
          target: 'agent:web-1',
          agentId: 'web-1',
        }),
      );
      expect(changes).toContainEqual(
        expect.objectContaining({ action: 'agent.enroll', agentId: 'web-2' }),
      );
      expect(changes).toContainEqual(
        expect.objectContaining({
          actor: 'app:deployer',
          action: 'app.key-pinned',
          appId: 'deployer',
        }),
      );
    } finally {
      await test.close();
    }
  });
});
