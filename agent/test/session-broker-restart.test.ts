import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Observer, removeDir, startTestAgent, type TestAgent } from './support/harness.js';
import { createTestTrust, unsignedCommand, type TestApp } from './support/signing.js';

const AGENT = 'agent-1';
const COMMANDS = 100;
const RESTART_AFTER = [30, 65];
const RESTART_TEST_TIMEOUT_MS = 60_000;

let broker: RunningMosquitto;
let app: TestApp;
let harness: TestAgent;
let observer: Observer;

beforeAll(async () => {
  broker = await startMosquitto({ persistence: true });
  const trust = await createTestTrust();
  app = await trust.app('app-1', [{ agents: [AGENT] }]);
  observer = await Observer.connect(broker, { persistentId: 'restart-observer' });
  harness = await startTestAgent({ broker, trustRoot: trust.trustRoot });
  await observer.status('online');
});

afterAll(async () => {
  await harness.agent.stop('test over');
  await observer.close();
  await removeDir(harness.dir);
  await broker.dispose();
});

it(
  'loses no command and runs none twice while the broker restarts twice mid-stream',
  async () => {
    const commands = await Promise.all(
      Array.from({ length: COMMANDS }, (_, index) =>
        app.sign(
          unsignedCommand(app.appId, {
            agentId: AGENT,
            action: 'echo',
            args: { text: `n${index}` },
          }),
        ),
      ),
    );
    const sends: Promise<void>[] = [];

    for (const [index, command] of commands.entries()) {
      if (RESTART_AFTER.includes(index)) {
        // Restart while commands are in flight: some answered, the rest still coming.
        await observer.received.waitForCount(
          (item) => item.message.kind === 'result',
          index - 10,
          'results before the restart',
        );
        await broker.restart();
      }

      // Not awaited one by one: while the broker is down MQTT.js queues the QoS 1 publish
      // and sends it after reconnecting.
      sends.push(observer.send(command));
    }

    await Promise.all(sends);

    for (const command of commands) {
      const result = await observer.result(command.id);
      expect(result.output.stdout).toBe(command.args['text']);
    }

    expect(commands.filter((command) => harness.runner.timesRun(command.id) !== 1)).toEqual([]);
    expect(
      harness.logs.filter((line) => line.msg === 'reconnect scheduled').length,
    ).toBeGreaterThanOrEqual(RESTART_AFTER.length);
  },
  RESTART_TEST_TIMEOUT_MS,
);
