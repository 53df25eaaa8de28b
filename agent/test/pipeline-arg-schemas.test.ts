import * as shared from '@beckon/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Observer } from './support/harness.js';
import { startAgentScene, type AgentScene } from './support/scene.js';
import { unsignedCommand, type TestApp } from './support/signing.js';

// Counts how often an argument schema is compiled from its specs.
vi.mock('@beckon/shared', async (importOriginal) => {
  const original = await importOriginal<typeof shared>();

  return { ...original, argsSchemaFor: vi.fn(original.argsSchemaFor) };
});

const AGENT = 'agent-1';
const COMMANDS = 6;

let scene: AgentScene;
let observer: Observer;
let app: TestApp;

beforeAll(async () => {
  scene = await startAgentScene();
  ({ observer } = scene);
  app = await scene.trust.app('app-1', [{ agents: [AGENT] }]);
});

afterAll(async () => {
  await scene.close();
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
