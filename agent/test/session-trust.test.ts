import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentTrustResponse } from '@beckon/shared';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Observer, removeDir, startTestAgent, type TestAgent } from './support/harness.js';
import { createTestTrust, unsignedCommand, type TestTrust } from './support/signing.js';

// A small real HTTP server answering `GET /v1/agent/trust` per shared/src/http-api.ts, standing
// in for the auth-service's public listener (built separately).

const AGENT = 'agent-1';
const PASSWORD = 'agent-password';

let broker: RunningMosquitto;
let server: Server;
let authUrl: string;
let enrolledRoot: TestTrust;
let rotatedRoot: TestTrust;
let observer: Observer;
let answerWith: (() => { status: number; body: unknown }) | undefined;
const authorizations: string[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  enrolledRoot = await createTestTrust();
  rotatedRoot = await createTestTrust();
  server = createServer((request, response) => {
    authorizations.push(request.headers.authorization ?? '');
    const expected = `Basic ${Buffer.from(`${AGENT}:${PASSWORD}`).toString('base64')}`;
    const answer =
      request.url !== '/v1/agent/trust' || request.headers.authorization !== expected
        ? { status: 401, body: { error: { code: 'unauthorized', message: 'no' } } }
        : (answerWith?.() ?? { status: 503, body: {} });
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  authUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  observer = await Observer.connect(broker);
});

afterAll(async () => {
  await observer.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await broker.dispose();
});

async function startWithTrustService(): Promise<TestAgent> {
  const started = Date.now();
  const harness = await startTestAgent({
    broker,
    trustRoot: enrolledRoot.trustRoot,
    groups: [],
    authUrl,
    password: PASSWORD,
  });
  await observer.status('online', started);

  return harness;
}

describe('the trust root and groups', () => {
  it('are refreshed from the auth-service at start, with Basic auth', async () => {
    const fresh: AgentTrustResponse = {
      agentId: AGENT,
      groups: ['web'],
      trustRoot: rotatedRoot.trustRoot,
    };
    answerWith = () => ({ status: 200, body: fresh });
    const harness = await startWithTrustService();

    try {
      // Signed under the rotated root and granted through a group only the refresh told of.
      const app = await rotatedRoot.app('app-1', [{ groups: ['web'] }]);
      const command = await app.sign(
        unsignedCommand(app.appId, { agentId: AGENT, action: 'ping' }),
      );
      await observer.send(command);

      expect((await observer.result(command.id)).outcome).toBe('succeeded');
      expect(authorizations.at(-1)).toMatch(/^Basic /);
    } finally {
      await harness.agent.stop('test over');
      await removeDir(harness.dir);
    }
  });

  it('keep the last good values when the refresh fails', async () => {
    answerWith = () => ({ status: 503, body: { error: { code: 'down', message: 'down' } } });
    const harness = await startWithTrustService();

    try {
      await harness.logs.waitFor(
        (line) => line.msg === 'trust refresh failed, keeping the last values',
        'the failed refresh',
      );
      const app = await enrolledRoot.app('app-1', [{ agents: [AGENT] }]);
      const command = await app.sign(
        unsignedCommand(app.appId, { agentId: AGENT, action: 'ping' }),
      );
      await observer.send(command);

      expect((await observer.result(command.id)).outcome).toBe('succeeded');
    } finally {
      await harness.agent.stop('test over');
      await removeDir(harness.dir);
    }
  });

  it('ignore an answer for another agent', async () => {
    answerWith = () => ({
      status: 200,
      body: { agentId: 'agent-2', groups: ['web'], trustRoot: rotatedRoot.trustRoot },
    });
    const harness = await startWithTrustService();

    try {
      const app = await rotatedRoot.app('app-1', [{ groups: ['web'] }]);
      const command = await app.sign(
        unsignedCommand(app.appId, { agentId: AGENT, action: 'ping' }),
      );
      await observer.send(command);

      expect(await observer.result(command.id)).toMatchObject({
        outcome: 'rejected',
        error: { code: 'untrusted_credential' },
      });
    } finally {
      await harness.agent.stop('test over');
      await removeDir(harness.dir);
    }
  });
});
