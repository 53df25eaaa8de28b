import { setTimeout as sleep } from 'node:timers/promises';
import type { Command, Progress } from '@beckon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BeckonError, isBeckonError } from '../src/index.js';
import { APP_SECRET, memoryLogger, startWorld, type World } from './helpers/setup.js';
import { startStandIn, type StandInAgent } from './helpers/stand-in-agent.js';

// One broker and one stand-in agent for the whole file; each test sets the agent's handler.
let world: World;
let agent: StandInAgent;

beforeAll(async () => {
  world = await startWorld({ grants: [{ agents: ['web-01'] }] });
  agent = await startStandIn({
    url: world.broker.url,
    agentId: 'web-01',
    trustRoot: world.trust.trustRoot,
  });
});

afterAll(async () => {
  await agent.stop();
  await world.dispose();
});

function nextCommand(): Promise<Command> {
  return new Promise((resolve) => agent.once('command', resolve));
}

describe.each(['5', '3.1.1'] as const)('send over MQTT %s', (mqttVersion) => {
  it('signs a command the agent verifies and resolves with its result', async () => {
    agent.handler = ({ command }) => ({ stdout: `restarted ${String(command.args['unit'])}\n` });
    const client = await world.connectApp({ mqttVersion });

    const result = await client.send('web-01', 'restart-service', { unit: 'nginx', force: true });

    expect(result.outcome).toBe('succeeded');
    expect(result.output.stdout).toBe('restarted nginx\n');
    const command = agent.received.at(-1)!;
    expect(command.id).toBe(result.commandId);
    expect(command.issuer).toBe('deployer');
    expect(command.args).toEqual({ unit: 'nginx', force: true });
    expect(Date.parse(command.expiresAt) - Date.parse(command.issuedAt)).toBe(30_000);
    await client.close();
  });
});

describe('send', () => {
  it('rejects with the agent code when the agent refuses the command', async () => {
    agent.handler = () => ({
      outcome: 'rejected',
      exitCode: null,
      error: { code: 'unknown_action', message: 'no such action' },
    });
    const client = await world.connectApp();

    const error = await client.send('web-01', 'reboot', {}).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BeckonError);
    expect(error).toMatchObject({
      code: 'rejected',
      agentCode: 'unknown_action',
      agentId: 'web-01',
    });
    expect((error as BeckonError).result?.outcome).toBe('rejected');
  });

  it('surfaces not_granted from an agent the credential does not cover', async () => {
    const other = await startStandIn({
      url: world.broker.url,
      agentId: 'db-01',
      trustRoot: world.trust.trustRoot,
    });
    const client = await world.connectApp();

    const error = await client.send('db-01', 'ping', {}).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'rejected', agentCode: 'not_granted' });
    await other.stop();
  });

  it('maps a failed action to failed, keeping the exit code', async () => {
    agent.handler = () => ({
      outcome: 'failed',
      exitCode: 3,
      error: { code: 'non_zero_exit', message: 'exit 3' },
    });
    const client = await world.connectApp();

    const error = await client.send('web-01', 'ping', {}).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'failed', agentCode: 'non_zero_exit' });
    expect((error as BeckonError).result?.exitCode).toBe(3);
  });

  it('times out when no result arrives, and drops the late result with a debug line', async () => {
    let late: Command | undefined;
    agent.handler = ({ command }) => {
      late = command;
      return 'no-answer';
    };
    const { logger, lines } = memoryLogger();
    const client = await world.connectApp({ logger });

    const error = await client
      .send('web-01', 'ping', {}, { timeout: 300 })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'timed_out', agentId: 'web-01' });
    await agent.publishResult(late!, { stdout: 'too late' });
    await expect
      .poll(() => lines().some((line) => line['msg'] === 'late result dropped'))
      .toBe(true);
    const line = lines().find((entry) => entry['msg'] === 'late result dropped')!;
    expect(line).toMatchObject({ commandId: late!.id, agentId: 'web-01', level: 20 });
    expect(client.connected).toBe(true);
  });

  it('stops waiting when the signal aborts, and sends a signed cancel when asked', async () => {
    agent.handler = () => 'no-answer';
    const client = await world.connectApp();
    const controller = new AbortController();
    const arrived = nextCommand();
    const cancelled = new Promise((resolve) => agent.once('cancel', resolve));

    const pending = client.send(
      'web-01',
      'ping',
      {},
      {
        signal: controller.signal,
        cancelOnAbort: true,
      },
    );
    const command = await arrived;
    controller.abort();

    await expect(pending).rejects.toMatchObject({ code: 'aborted', commandId: command.id });
    await expect(cancelled).resolves.toMatchObject({ commandId: command.id, issuer: 'deployer' });
  });

  it('rejects at once for an already aborted signal', async () => {
    const client = await world.connectApp();

    await expect(
      client.send('web-01', 'ping', {}, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'aborted' });
  });

  it('cancels a pending command by id with a message the agent verifies', async () => {
    agent.handler = () => 'no-answer';
    const client = await world.connectApp();
    const arrived = nextCommand();
    const handle = client.start('web-01', 'ping', {});
    await arrived;
    const cancelled = new Promise<{ commandId: string }>((resolve) =>
      agent.once('cancel', resolve),
    );

    await client.cancel(handle.id);

    expect((await cancelled).commandId).toBe(handle.id);
    await agent.publishResult(agent.received.at(-1)!, {
      outcome: 'cancelled',
      exitCode: null,
      error: { code: 'cancelled', message: 'stopped by a cancel' },
    });
    await expect(handle.result).rejects.toMatchObject({ code: 'failed', agentCode: 'cancelled' });
  });

  it('streams progress through the handle and through a callback', async () => {
    agent.handler = async ({ progress }) => {
      await progress('one\n');
      await progress('two\n');
      await sleep(50);
      return { stdout: 'one\ntwo\n' };
    };
    const client = await world.connectApp();

    const handle = client.start('web-01', 'ping', {}, { progress: true });
    const chunks: string[] = [];
    for await (const chunk of handle.progress) {
      chunks.push(chunk.data);
    }
    expect(chunks).toEqual(['one\n', 'two\n']);
    expect(agent.received.at(-1)!.progress).toBe(true);
    await expect(handle.result).resolves.toMatchObject({ outcome: 'succeeded' });

    const seen: Progress[] = [];
    await client.send('web-01', 'ping', {}, { onProgress: (chunk) => seen.push(chunk) });
    expect(seen.map((chunk) => chunk.seq)).toEqual([0, 1]);
  });

  it('ignores garbage on the results topic and still takes the real result', async () => {
    const { logger, lines } = memoryLogger();
    agent.handler = async ({ command }) => {
      await agent.publishRaw('not json at all');
      await agent.publishRaw(Buffer.from([0xff, 0xfe, 0x00]));
      await agent.publishRaw(JSON.stringify({ kind: 'result', commandId: command.id }));
      await agent.publishRaw(JSON.stringify({ ...agent.status('online'), kind: 'result' }));
      return { stdout: 'real' };
    };
    const client = await world.connectApp({ logger });

    const result = await client.send('web-01', 'ping', {});

    expect(result.output.stdout).toBe('real');
    expect(lines().filter((line) => line['msg'] === 'malformed result ignored')).toHaveLength(4);
  });

  it('survives hostile payloads on every channel it reads', async () => {
    const hostile: (string | Buffer)[] = [
      '',
      'null',
      '[]',
      '"result"',
      '{"__proto__":{"polluted":true},"kind":"result"}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
      Buffer.alloc(600 * 1_024, 0x7b),
      Buffer.from([0xc3, 0x28, 0xa0, 0xa1]),
      JSON.stringify({ kind: 'progress', commandId: 'x'.repeat(100), seq: -1 }),
      JSON.stringify({ kind: 'status', agentId: 'web-01', state: 'sleeping' }),
    ];
    agent.handler = async () => {
      for (const payload of hostile) {
        for (const channel of ['results', 'progress', 'status'] as const) {
          await agent.publishRaw(payload, channel);
        }
      }

      return { stdout: 'still here' };
    };
    const client = await world.connectApp();

    await expect(client.send('web-01', 'ping', {}, { progress: true })).resolves.toMatchObject({
      output: { stdout: 'still here' },
    });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(client.connected).toBe(true);
    // Garbage on the status topic must not stop the next real status from counting.
    await agent.publishStatus('online');
    await expect.poll(async () => (await client.status('web-01'))?.state).toBe('online');
  });

  it('keeps the password, the credential and argument values out of its debug log', async () => {
    agent.handler = () => ({ stdout: 'done' });
    const { logger, lines } = memoryLogger();
    const client = await world.connectApp({ logger });

    await client.send('web-01', 'restart-service', { unit: 'postgresql' });

    const credential = agent.received.at(-1)!.auth!.credential;
    const logged = JSON.stringify(lines());
    expect(lines().some((line) => line['msg'] === 'mqtt.js')).toBe(true);
    expect(logged).not.toContain(APP_SECRET);
    expect(logged).not.toContain(credential.split('.')[2]);
    expect(logged).not.toContain('postgresql');
  });

  it('ignores a replay refusal for a duplicate delivery of its own command', async () => {
    agent.handler = async ({ command }) => {
      await agent.publishResult(command, {
        outcome: 'rejected',
        exitCode: null,
        error: { code: 'replayed', message: 'seen before' },
      });
      return { stdout: 'first delivery' };
    };
    const client = await world.connectApp();

    await expect(client.send('web-01', 'ping', {})).resolves.toMatchObject({
      output: { stdout: 'first delivery' },
    });
  });

  it('names the argument it refuses', async () => {
    const client = await world.connectApp();

    const refusal = (run: () => unknown): unknown => {
      try {
        return run();
      } catch (error) {
        return error;
      }
    };

    expect(refusal(() => client.start('web/01', 'ping', {}))).toMatchObject({
      code: 'invalid_arguments',
      argument: 'agentId',
    });
    expect(refusal(() => client.start('web-01', 'Ping!', {}))).toMatchObject({
      argument: 'action',
    });
    expect(refusal(() => client.start('web-01', 'ping', { n: 1.5 }))).toMatchObject({
      argument: 'args',
    });
    expect(refusal(() => client.start('web-01', 'ping', {}, { timeout: -1 }))).toMatchObject({
      argument: 'options',
    });
    await expect(client.send('', 'ping', {})).rejects.toSatisfy((error) =>
      isBeckonError(error, 'invalid_arguments'),
    );
    await expect(client.cancel('not a command id')).rejects.toMatchObject({
      argument: 'commandId',
    });
  });

  it('rejects new sends and pending ones with not_connected once closed', async () => {
    agent.handler = () => 'no-answer';
    const client = await world.connectApp();
    const pending = expect(client.send('web-01', 'ping', {})).rejects.toMatchObject({
      code: 'not_connected',
    });

    await client.close();

    await pending;
    await expect(client.send('web-01', 'ping', {})).rejects.toMatchObject({
      code: 'not_connected',
    });
  });
});
