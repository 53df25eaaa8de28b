import * as shared from '@beckon/shared';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Observer, removeDir, startTestAgent, type TestAgent } from './support/harness.js';
import { createTestTrust, unsignedCommand, type TestApp } from './support/signing.js';

// Counts how often an argument schema is compiled from its specs.
vi.mock('@beckon/shared', async (importOriginal) => {
  const original = await importOriginal<typeof shared>();

  return { ...original, argsSchemaFor: vi.fn(original.argsSchemaFor) };
});

const AGENT = 'agent-1';
const COMMANDS = 6;

let broker: RunningMosquitto;
let app: TestApp;
let harness: TestAgent;
let observer: Observer;

beforeAll(async () => {
  broker = await startMosquitto();
  const trust = await createTestTrust();
  app = await trust.app('app-1', [{ agents: [AGENT] }]);
  observer = await Observer.connect(broker);
  harness = await startTestAgent({ broker, trustRoot: trust.trustRoot });
  await observer.status('online');
});

afterAll(async () => {
  await harness.agent.stop('test over');
  await observer.close();
  await removeDir(harness.dir);
  await broker.dispose();
});

describe('argument schemas', () => {
  it('are compiled when the agent starts, not again for each command', async () => {
    const compiledAtStart = vi.mocked(shared.argsSchemaFor).mock.calls.length;

    expect(compiledAtStart).toBeGreaterThan(0);

    for (let index = 0; index < COMMANDS; index += 1) {
      const command = await app.sign(
        index % 2 === 0
          ? unsignedCommand(app.appId, { agentId: AGENT, action: 'echo', args: { text: 'hi' } })
          : unsignedCommand(app.appId, { agentId: AGENT, action: 'ping', args: {} }),
      );
      await observer.send(command);

      expect((await observer.result(command.id)).outcome).toBe('succeeded');
    }

    const refused = await app.sign(
      unsignedCommand(app.appId, { agentId: AGENT, action: 'echo', args: { text: 'NO CAPS' } }),
    );
    await observer.send(refused);

    expect(await observer.result(refused.id)).toMatchObject({
      outcome: 'rejected',
      error: { code: 'invalid_args' },
    });
    expect(vi.mocked(shared.argsSchemaFor).mock.calls.length).toBe(compiledAtStart);
  });
});
