import {
  MAX_COMMAND_ID_LENGTH,
  MAX_CORRELATION_DATA_LENGTH,
  MAX_ID_LENGTH,
  Result,
} from '@beckon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observer } from './support/harness.js';
import { startAgentScene, type AgentScene } from './support/scene.js';
import { unsignedCommand, type TestApp } from './support/signing.js';

// The agent answers ping without checking its result against the contract (the check was
// about 20 us of its CPU per ping). That is sound only while every field of the result comes
// from the agent's own clock or from a command field that already passed the same schema, so
// these pings carry every such field at its bound; the observer keeps only messages that pass
// the contract, and each result is checked against it once more here.

const AGENT = 'agent-1';
/** 128 characters, the longest id an app may have. */
const LONGEST_APP_ID = `app-${'x'.repeat(MAX_ID_LENGTH - 4)}`;
/** Control characters, a quote, a backslash and a surrogate pair: each longer in JSON. */
const AWKWARD_CORRELATION = '\u0000"\\\n\u001f😀é'
  .repeat(MAX_CORRELATION_DATA_LENGTH)
  .slice(0, MAX_CORRELATION_DATA_LENGTH);

let scene: AgentScene;
let observer: Observer;
let app: TestApp;

beforeAll(async () => {
  scene = await startAgentScene();
  observer = scene.observer;
  app = await scene.trust.app(LONGEST_APP_ID, [{ agents: [AGENT] }]);
});

afterAll(async () => {
  await scene.close();
});

async function ping(fields: { id?: string; correlationData?: string }): Promise<Result> {
  const command = await app.sign(
    unsignedCommand(app.appId, { agentId: AGENT, action: 'ping', ...fields }),
  );
  await observer.send(command);

  return observer.result(command.id);
}

describe('ping results meet the contract without a check at run time', () => {
  it('with every field from the command at its longest', async () => {
    const id = `c${'0123456789abcdef-_'.repeat(4)}`.slice(0, MAX_COMMAND_ID_LENGTH);
    const result = await ping({ id, correlationData: AWKWARD_CORRELATION });

    expect(Result.safeParse(result).success).toBe(true);
    expect(result).toMatchObject({
      commandId: id,
      issuer: LONGEST_APP_ID,
      action: 'ping',
      outcome: 'succeeded',
      exitCode: 0,
      output: { stdout: '', stderr: '', truncated: false },
      correlationData: AWKWARD_CORRELATION,
    });
  });

  it('with the optional fields left out', async () => {
    const result = await ping({});

    expect(Result.safeParse(result).success).toBe(true);
    expect(result).not.toHaveProperty('correlationData');
    expect(result.timings.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(result.timings.finishedAt)).toBeGreaterThanOrEqual(
      Date.parse(result.timings.receivedAt),
    );
  });
});
