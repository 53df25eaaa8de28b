import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AgentProcess, writeChildFiles } from './support/agent-process.js';
import { BUILD_TIMEOUT_MS, ensureAgentBuilt, NOTIFY_SOCKET_HELPER } from './support/built-agent.js';
import { Observer, removeDir, tempDir } from './support/harness.js';
import { createTestTrust, unsignedCommand } from './support/signing.js';
import { Collector } from './support/wait.js';

const AGENT = 'agent-1';
/** One second: the agent pings every half of it (500 ms), so a few pings arrive quickly. */
const WATCHDOG_USEC = '1000000';
const SYSTEMD_TEST_TIMEOUT_MS = 40_000;

let broker: RunningMosquitto;
let dir: string;
let fakeSystemd: ChildProcess;
const notifications = new Collector<string>();

beforeAll(async () => {
  await ensureAgentBuilt();
  broker = await startMosquitto();
  dir = await tempDir('systemd');
  fakeSystemd = spawn('python3', [NOTIFY_SOCKET_HELPER, join(dir, 'notify.sock')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  createInterface({ input: fakeSystemd.stdout! }).on('line', (line) => notifications.push(line));
  await notifications.waitFor((line) => line === 'listening', 'the fake notify socket');
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  const exited = new Promise((resolve) => fakeSystemd.once('exit', resolve));
  fakeSystemd.kill('SIGTERM');
  await exited;
  await broker.dispose();
  await removeDir(dir);
});

it(
  'tells systemd it is ready, what it is doing, that it is alive, and that it is stopping',
  async () => {
    const trust = await createTestTrust();
    const app = await trust.app('app-1', [{ agents: [AGENT] }]);
    const observer = await Observer.connect(broker);
    const configPath = await writeChildFiles(
      { dir, brokerUrl: broker.url, shutdownGraceSeconds: 5 },
      trust.trustRoot,
    );
    const child = new AgentProcess(configPath, {
      NOTIFY_SOCKET: join(dir, 'notify.sock'),
      WATCHDOG_USEC,
    });

    try {
      await notifications.waitFor((line) => line === 'READY=1', 'READY=1');
      await notifications.waitFor((line) => line === 'STATUS=connected', 'STATUS=connected');
      await notifications.waitForCount((line) => line === 'WATCHDOG=1', 2, 'two watchdog pings');

      const command = await app.sign(
        unsignedCommand(app.appId, { agentId: AGENT, action: 'sleep', args: { ms: 1_000 } }),
      );
      await observer.send(command);
      await notifications.waitFor(
        (line) => line === 'STATUS=connected, running 1 action(s)',
        'the running status',
      );
      await observer.result(command.id);

      child.kill('SIGTERM');
      await notifications.waitFor((line) => line === 'STOPPING=1', 'STOPPING=1');
      expect((await child.waitForExit()).code).toBe(0);
      expect(notifications.items.indexOf('READY=1')).toBeLessThan(
        notifications.items.indexOf('STOPPING=1'),
      );
    } finally {
      await child.dispose();
      await observer.close();
    }
  },
  SYSTEMD_TEST_TIMEOUT_MS,
);
