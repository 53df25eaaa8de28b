import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Observer, removeDir, startTestAgent, type TestAgent } from './support/harness.js';
import {
  createTestTrust,
  newId,
  unsignedCommand,
  type TestApp,
  type TestTrust,
} from './support/signing.js';
import { TestRunner } from './support/test-runner.js';

const AGENT = 'agent-1';
const LAX_AGENT = 'agent-lax';

let broker: RunningMosquitto;
let trust: TestTrust;
let app: TestApp;
let harness: TestAgent;
let lax: TestAgent;
let observer: Observer;

beforeAll(async () => {
  broker = await startMosquitto();
  trust = await createTestTrust();
  app = await trust.app('app-1', [{ agents: [AGENT, LAX_AGENT] }]);
  observer = await Observer.connect(broker);
  harness = await startTestAgent({
    broker,
    trustRoot: trust.trustRoot,
    runner: new TestRunner({ capacity: 1 }),
    // The hanging command is interrupted at shutdown rather than waited for.
    shutdownGraceSeconds: 0,
  });
  lax = await startTestAgent({
    broker,
    trustRoot: trust.trustRoot,
    agentId: LAX_AGENT,
    requireSignatures: false,
  });
});

afterAll(async () => {
  await Promise.all([harness.agent.stop('test over'), lax.agent.stop('test over')]);
  await observer.close();
  await Promise.all([removeDir(harness.dir), removeDir(lax.dir)]);
  await broker.dispose();
});

function signedEcho(text: string, extra: { id?: string; validForMs?: number } = {}) {
  return app.sign(
    unsignedCommand(app.appId, { agentId: AGENT, action: 'echo', args: { text }, ...extra }),
  );
}

async function expectRefused(commandId: string | null, code: string, outcome = 'rejected') {
  const result = await observer.result(commandId);

  expect(result).toMatchObject({ outcome, exitCode: null, error: { code } });
  expect(result.timings.startedAt).toBeUndefined();
  expect(harness.runner.requests.map((request) => request.commandId)).not.toContain(commandId);

  return result;
}

describe('the agent refuses without running anything', () => {
  it('a payload that is not JSON, with a null command id', async () => {
    const before = observer.results(null).length;
    await observer.sendRaw('{"kind": "command", ');
    await observer.received.waitForCount(
      (item) => item.message.kind === 'result' && item.message.commandId === null,
      before + 1,
      'a result without command id',
    );

    const result = observer.results(null).at(-1);
    expect(result).toMatchObject({ outcome: 'rejected', error: { code: 'malformed' } });
    expect(result?.error?.message).toContain('not valid JSON');
  });

  it('a command missing fields, answered under its salvaged id', async () => {
    const id = newId();
    await observer.send({ kind: 'command', id, agentId: AGENT, issuer: 'app-1' });

    const result = await expectRefused(id, 'malformed');
    expect(result.error?.message).toContain('action');
  });

  it('a command for another agent', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, { agentId: 'agent-2', action: 'echo', args: { text: 'x' } }),
    );
    await observer.send(command, AGENT);

    await expectRefused(command.id, 'wrong_agent');
  });

  it('a command whose expiresAt has passed, as expired', async () => {
    const command = await signedEcho('late', { validForMs: -500 });
    await observer.send(command);

    await expectRefused(command.id, 'expired', 'expired');
  });

  it('a new command that reuses an id already seen', async () => {
    const id = newId();
    await observer.send(await signedEcho('first', { id }));
    expect((await observer.result(id)).outcome).toBe('succeeded');

    await observer.send(await signedEcho('second', { id }));
    await observer.received.waitForCount(
      (item) => item.message.kind === 'result' && item.message.commandId === id,
      2,
      'the replay answer',
    );

    expect(observer.results(id)[1]).toMatchObject({
      outcome: 'rejected',
      error: { code: 'replayed' },
    });
    expect(harness.runner.timesRun(id)).toBe(1);
  });

  it('an unsigned command while signatures are required', async () => {
    const command = unsignedCommand(app.appId, {
      agentId: AGENT,
      action: 'echo',
      args: { text: 'x' },
    });
    await observer.send(command);

    await expectRefused(command.id, 'unsigned');
  });

  it('a command whose credential another trust root issued', async () => {
    const stranger = await (await createTestTrust()).app('app-1', [{ agents: [AGENT] }]);
    const command = await stranger.sign(
      unsignedCommand('app-1', { agentId: AGENT, action: 'echo', args: { text: 'x' } }),
    );
    await observer.send(command);

    await expectRefused(command.id, 'untrusted_credential');
  });

  it('a command whose credential was issued to another app than its issuer', async () => {
    const command = await app.sign(
      unsignedCommand('app-9', { agentId: AGENT, action: 'echo', args: { text: 'x' } }),
    );
    await observer.send(command);

    await expectRefused(command.id, 'untrusted_credential');
  });

  it('a command changed after it was signed', async () => {
    const command = await signedEcho('harmless');
    await observer.send({ ...command, args: { text: 'tampered' } });

    await expectRefused(command.id, 'bad_signature');
  });

  it('a command for an action the grant does not cover', async () => {
    const limited = await trust.app('app-3', [{ agents: [AGENT], actions: ['ping'] }]);
    const command = await limited.sign(
      unsignedCommand(limited.appId, { agentId: AGENT, action: 'echo', args: { text: 'x' } }),
    );
    await observer.send(command);

    await expectRefused(command.id, 'not_granted');
  });

  it('a command from an app granted only other agents', async () => {
    const elsewhere = await trust.app('app-4', [{ groups: ['db'] }]);
    const command = await elsewhere.sign(
      unsignedCommand(elsewhere.appId, { agentId: AGENT, action: 'ping' }),
    );
    await observer.send(command);

    await expectRefused(command.id, 'not_granted');
  });

  it('an action that is not in the allow-list', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, { agentId: AGENT, action: 'rm-everything' }),
    );
    await observer.send(command);

    await expectRefused(command.id, 'unknown_action');
  });

  it.each([
    ['a shell metacharacter value', { text: '; rm -rf /' }],
    ['a command substitution', { text: '$(reboot)' }],
    ['a value that looks like a flag', { text: '--output=/etc/passwd' }],
    ['a newline', { text: 'a\nb' }],
    ['an undeclared argument', { text: 'ok', extra: 'x' }],
    ['a missing argument', {}],
    ['a wrong type', { text: 42 }],
  ])('arguments that fail the schema: %s', async (_label, args) => {
    const command = await app.sign(
      unsignedCommand(app.appId, { agentId: AGENT, action: 'echo', args }),
    );
    await observer.send(command);

    await expectRefused(command.id, 'invalid_args');
  });

  it('a built-in given arguments', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, { agentId: AGENT, action: 'ping', args: { now: true } }),
    );
    await observer.send(command);

    await expectRefused(command.id, 'invalid_args');
  });

  it('a command while the runner has no room, as unavailable', async () => {
    const hang = await app.sign(unsignedCommand(app.appId, { agentId: AGENT, action: 'hang' }));
    await observer.send(hang);
    await harness.runner.started(hang.id);

    const command = await signedEcho('no room');
    await observer.send(command);

    await expectRefused(command.id, 'unavailable');
  });
});

describe('with signature checks turned off', () => {
  it('warns loudly at start-up', () => {
    const warning = lax.logs.items.find((line) => line.msg.startsWith('SIGNATURE CHECKS ARE OFF'));

    expect(warning?.level).toBe(40);
  });

  it('runs an unsigned command', async () => {
    const command = unsignedCommand('app-1', {
      agentId: LAX_AGENT,
      action: 'echo',
      args: { text: 'lax' },
    });
    await observer.send(command, LAX_AGENT);

    expect(await observer.result(command.id)).toMatchObject({
      outcome: 'succeeded',
      output: { stdout: 'lax' },
    });
  });

  it('still refuses a signed command whose signature does not verify', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, { agentId: LAX_AGENT, action: 'echo', args: { text: 'a' } }),
    );
    await observer.send({ ...command, args: { text: 'b' } }, LAX_AGENT);

    expect(await observer.result(command.id)).toMatchObject({ error: { code: 'bad_signature' } });
    expect(lax.runner.timesRun(command.id)).toBe(0);
  });

  it('still refuses arguments that fail the schema', async () => {
    const command = unsignedCommand('app-1', {
      agentId: LAX_AGENT,
      action: 'echo',
      args: { text: '$(id)' },
    });
    await observer.send(command, LAX_AGENT);

    expect(await observer.result(command.id)).toMatchObject({ error: { code: 'invalid_args' } });
  });
});
