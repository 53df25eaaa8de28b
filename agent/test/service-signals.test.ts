import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, writeChildFiles } from './support/agent-process.js';
import { BUILD_TIMEOUT_MS, ensureAgentBuilt } from './support/built-agent.js';
import { Observer, removeDir, tempDir } from './support/harness.js';
import {
  createTestTrust,
  unsignedCommand,
  type TestApp,
  type TestTrust,
} from './support/signing.js';

const AGENT = 'agent-1';
const PROCESS_TEST_TIMEOUT_MS = 40_000;

let broker: RunningMosquitto;
let trust: TestTrust;
let app: TestApp;
let observer: Observer;
let dir: string;
const children: AgentProcess[] = [];

beforeAll(async () => {
  await ensureAgentBuilt();
  broker = await startMosquitto();
  trust = await createTestTrust();
  app = await trust.app('app-1', [{ agents: [AGENT] }]);
  observer = await Observer.connect(broker);
}, BUILD_TIMEOUT_MS);

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.dispose()));
  await removeDir(dir);
});

afterAll(async () => {
  await observer.close();
  await broker.dispose();
});

async function startChild(shutdownGraceSeconds: number, reuse = false): Promise<AgentProcess> {
  if (!reuse) {
    dir = await tempDir('service');
  }

  const configPath = await writeChildFiles(
    { dir, brokerUrl: broker.url, shutdownGraceSeconds },
    trust.trustRoot,
  );
  const startedAt = Date.now();
  const child = new AgentProcess(configPath);
  children.push(child);
  await observer.status('online', startedAt);

  return child;
}

function commandStarted(child: AgentProcess, commandId: string) {
  return child.waitForLog(
    (line) => line.msg === 'command started' && line['commandId'] === commandId,
  );
}

describe('SIGTERM', () => {
  it(
    'interrupts an action still running after the grace period, reports it, goes offline, exits 0',
    async () => {
      const child = await startChild(1);
      const command = await app.sign(
        unsignedCommand(app.appId, { agentId: AGENT, action: 'hang' }),
      );
      await observer.send(command);
      await commandStarted(child, command.id);

      const signalledAt = Date.now();
      child.kill('SIGTERM');

      expect(await observer.result(command.id)).toMatchObject({
        outcome: 'interrupted',
        error: { code: 'interrupted' },
      });
      expect((await observer.status('offline', signalledAt)).reason).toBe('SIGTERM received');
      expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
      expect(
        child.logs.filter((line) => line.msg === 'agent state').map((l) => l['state']),
      ).toEqual(['starting', 'connecting', 'connected', 'draining', 'stopped']);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'lets an action finish within the grace period and answers new commands unavailable',
    async () => {
      const child = await startChild(30);
      const slow = await app.sign(
        unsignedCommand(app.appId, { agentId: AGENT, action: 'sleep', args: { ms: 2_000 } }),
      );
      await observer.send(slow);
      await commandStarted(child, slow.id);

      child.kill('SIGTERM');
      await child.waitForLog((line) => line.msg === 'agent state' && line['state'] === 'draining');
      const late = await app.sign(
        unsignedCommand(app.appId, { agentId: AGENT, action: 'sleep', args: { ms: 1 } }),
      );
      await observer.send(late);

      expect(await observer.result(late.id)).toMatchObject({
        outcome: 'rejected',
        error: { code: 'unavailable' },
      });
      expect(await observer.result(slow.id)).toMatchObject({
        outcome: 'succeeded',
        output: { stdout: 'slept' },
      });
      expect((await child.waitForExit()).code).toBe(0);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

describe('SIGKILL mid-action', () => {
  it(
    'is reported interrupted once after the restart, and the action never runs again',
    async () => {
      const first = await startChild(1);
      const command = await app.sign(
        unsignedCommand(app.appId, { agentId: AGENT, action: 'sleep', args: { ms: 60_000 } }),
      );
      await observer.send(command);
      await commandStarted(first, command.id);

      const mark = observer.mark();
      first.kill('SIGKILL');
      expect((await first.waitForExit()).signal).toBe('SIGKILL');
      // The broker publishes the will: the retained offline status.
      expect((await observer.statusSince('offline', mark)).reason).toBe('connection lost');

      const second = await startChild(1, true);
      expect(await observer.result(command.id)).toMatchObject({
        outcome: 'interrupted',
        error: { code: 'interrupted' },
      });
      second.kill('SIGTERM');
      await second.waitForExit();

      // A third life, and the same command delivered again: still one run, one interrupted.
      const third = await startChild(1, true);
      await observer.send(command);
      await third.waitForLog((line) => line.msg === 'duplicate delivery, result resent');
      third.kill('SIGTERM');
      await third.waitForExit();

      const lives = [first, second, third];
      const runs = lives.flatMap((child) =>
        child.logs.filter(
          (line) => line.msg === 'command started' && line['commandId'] === command.id,
        ),
      );
      expect(runs).toHaveLength(1);
      expect(
        second.logs.filter((line) => line.msg === 'command was interrupted by the previous stop'),
      ).toHaveLength(1);
      expect(
        third.logs.filter((line) => line.msg === 'command was interrupted by the previous stop'),
      ).toEqual([]);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
