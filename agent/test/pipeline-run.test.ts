import type { RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Observer, type TestAgent } from './support/harness.js';
import { startAgentScene, type AgentScene } from './support/scene.js';
import {
  unsignedCancel,
  unsignedCommand,
  type TestApp,
  type TestTrust,
} from './support/signing.js';

const AGENT = 'agent-1';

let scene: AgentScene;
let broker: RunningMosquitto;
let trust: TestTrust;
let observer: Observer;
let harness: TestAgent;
let app: TestApp;
let other: TestApp;

beforeAll(async () => {
  scene = await startAgentScene();
  ({ broker, trust, observer, harness } = scene);
  app = await trust.app('app-1', [{ agents: [AGENT] }]);
  other = await trust.app('app-2', [{ groups: ['web'] }]);
});

afterAll(async () => {
  await scene.close();
});

describe('a verified command', () => {
  it('runs and its result comes back on the results topic', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, {
        agentId: AGENT,
        action: 'echo',
        args: { text: 'hello' },
        correlationData: 'mine',
      }),
    );
    await observer.send(command);
    const result = await observer.result(command.id);

    expect(result).toMatchObject({
      commandId: command.id,
      agentId: AGENT,
      action: 'echo',
      issuer: 'app-1',
      outcome: 'succeeded',
      exitCode: 0,
      output: { stdout: 'hello', stderr: '', truncated: false },
      correlationData: 'mine',
    });
    expect(result.timings.durationMs).toBeGreaterThanOrEqual(0);
    expect(harness.runner.requests.find((r) => r.commandId === command.id)?.args).toEqual({
      text: 'hello',
    });
  });

  it('is also answered on the issuer replies topic when replyTo names it', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, {
        agentId: AGENT,
        action: 'echo',
        args: { text: 'reply' },
        replyTo: 'beckon/v1/apps/app-1/replies',
      }),
    );
    await observer.send(command);

    const reply = await observer.result(command.id, '/apps/app-1/replies');
    expect(reply.output.stdout).toBe('reply');
    expect(await observer.result(command.id)).toEqual(reply);
  });

  it('ignores a replyTo that is not the issuer own replies topic', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, {
        agentId: AGENT,
        action: 'echo',
        args: { text: 'elsewhere' },
        replyTo: 'beckon/v1/apps/app-2/replies',
      }),
    );
    await observer.send(command);

    expect((await observer.result(command.id)).outcome).toBe('succeeded');
    await harness.logs.waitFor(
      (line) => line.msg === 'replyTo is not the issuer replies topic, ignored',
      'the ignored replyTo log line',
    );
    expect(observer.results(command.id, '/replies')).toEqual([]);
  });

  it('reports a failing program as failed with its exit code', async () => {
    const command = await app.sign(unsignedCommand(app.appId, { agentId: AGENT, action: 'fail' }));
    await observer.send(command);

    expect(await observer.result(command.id)).toMatchObject({
      outcome: 'failed',
      exitCode: 3,
      error: { code: 'non_zero_exit' },
    });
  });

  it('is answered as an internal fault when the runner breaks its promise', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, { agentId: AGENT, action: 'broken' }),
    );
    await observer.send(command);

    expect(await observer.result(command.id)).toMatchObject({
      outcome: 'failed',
      error: { code: 'internal' },
    });
  });

  it('streams progress when the command asks for it', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, {
        agentId: AGENT,
        action: 'echo',
        args: { text: 'streamed' },
        progress: true,
      }),
    );
    await observer.send(command);
    await observer.result(command.id);

    const progress = await observer.received.waitFor(
      (item) => item.message.kind === 'progress' && item.message.commandId === command.id,
      'a progress chunk',
    );
    expect(progress.message).toMatchObject({ seq: 0, stream: 'stdout', data: 'streamed' });
  });

  it('never writes the value of a secret argument to the log', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, {
        agentId: AGENT,
        action: 'secretive',
        args: { passphrase: 'hunter2-very-secret' },
      }),
    );
    await observer.send(command);
    await observer.result(command.id);

    const started = await harness.logs.waitFor(
      (line) => line.msg === 'command started' && line['commandId'] === command.id,
      'the started log line',
    );
    expect(started['args']).toEqual({ passphrase: '[secret]' });
    expect(JSON.stringify(harness.logs.items)).not.toContain('hunter2-very-secret');
  });
});

describe('built-in actions', () => {
  it('ping succeeds at once with empty output and spawns nothing', async () => {
    const before = harness.runner.requests.length;
    const command = await app.sign(unsignedCommand(app.appId, { agentId: AGENT, action: 'ping' }));
    await observer.send(command);

    expect(await observer.result(command.id)).toMatchObject({
      outcome: 'succeeded',
      exitCode: 0,
      output: { stdout: '', stderr: '' },
    });
    expect(harness.runner.requests.length).toBe(before);
  });

  it('describe answers with the catalogue, built-ins included', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, { agentId: AGENT, action: 'describe' }),
    );
    await observer.send(command);
    const result = await observer.result(command.id);
    const catalogue = JSON.parse(result.output.stdout) as { name: string }[];

    expect(catalogue.map((action) => action.name)).toEqual([
      'ping',
      'describe',
      'echo',
      'fail',
      'hang',
      'broken',
      'secretive',
    ]);
  });
});

describe('presence', () => {
  it('publishes a retained online status with version, host facts and the catalogue', async () => {
    const late = await Observer.connect(broker);

    try {
      const status = await late.received.waitFor(
        (item) => item.retain && item.message.kind === 'status',
        'the retained status',
      );
      expect(status.message).toMatchObject({
        agentId: AGENT,
        state: 'online',
        version: '0.1.0',
        host: { platform: process.platform, node: process.version },
      });
      expect(status.message.kind === 'status' && status.message.catalogue[2]?.args).toEqual({
        text: { type: 'string', maxLength: 64, pattern: '[a-z0-9 -]*' },
      });
    } finally {
      await late.close();
    }
  });
});

describe('cancel', () => {
  it('stops a running command, which then reports cancelled', async () => {
    const command = await app.sign(unsignedCommand(app.appId, { agentId: AGENT, action: 'hang' }));
    await observer.send(command);
    await harness.runner.started(command.id);

    await observer.send(await app.sign(unsignedCancel(app.appId, AGENT, command.id)));

    expect(await observer.result(command.id)).toMatchObject({
      outcome: 'cancelled',
      error: { code: 'cancelled' },
    });
  });

  it('is refused when it comes from another app than the issuer', async () => {
    const command = await app.sign(unsignedCommand(app.appId, { agentId: AGENT, action: 'hang' }));
    await observer.send(command);
    await harness.runner.started(command.id);

    const cancel = await other.sign(unsignedCancel(other.appId, AGENT, command.id));
    await observer.send(cancel);
    expect(await observer.result(cancel.id)).toMatchObject({
      outcome: 'rejected',
      error: { code: 'not_granted' },
    });

    await observer.send(await app.sign(unsignedCancel(app.appId, AGENT, command.id)));
    expect((await observer.result(command.id)).outcome).toBe('cancelled');
  });

  it('for an unknown command is answered unknown_command under the cancel id', async () => {
    const cancel = await app.sign(unsignedCancel(app.appId, AGENT, 'never-sent-0001'));
    await observer.send(cancel);

    expect(await observer.result(cancel.id)).toMatchObject({
      commandId: cancel.id,
      outcome: 'rejected',
      error: { code: 'unknown_command' },
    });
  });
});

describe('duplicates', () => {
  it('a redelivered identical command never runs twice; its stored result is sent again', async () => {
    const command = await app.sign(
      unsignedCommand(app.appId, { agentId: AGENT, action: 'echo', args: { text: 'once' } }),
    );
    await observer.send(command);
    const first = await observer.result(command.id);

    await observer.send(command);
    await observer.received.waitForCount(
      (item) => item.message.kind === 'result' && item.message.commandId === command.id,
      2,
      'the resent result',
    );

    expect(observer.results(command.id)).toEqual([first, first]);
    expect(harness.runner.timesRun(command.id)).toBe(1);
  });
});
