import type { RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Observer, TestAgent } from './support/harness.js';
import { startAgentScene, type AgentScene } from './support/scene.js';
import { unsignedCommand, type TestApp } from './support/signing.js';

const AGENT = 'agent-1';
const COMMANDS = 100;
const RESTART_AFTER = [30, 65];
const RESTART_TEST_TIMEOUT_MS = 60_000;

let scene: AgentScene;
let broker: RunningMosquitto;
let observer: Observer;
let harness: TestAgent;
let app: TestApp;

beforeAll(async () => {
  scene = await startAgentScene({ persistence: true, observerId: 'restart-observer' });
  ({ broker, observer, harness } = scene);
  app = await scene.trust.app('app-1', [{ agents: [AGENT] }]);
});

afterAll(async () => {
  await scene.close();
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
