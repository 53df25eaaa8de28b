import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { Observer, removeDir, startTestAgent, type TestAgent } from './harness.js';
import { createTestTrust, type TestTrust } from './signing.js';

/** A broker, a trust root, an observer and one agent that has said it is online. */
export interface AgentScene {
  readonly broker: RunningMosquitto;
  readonly trust: TestTrust;
  readonly observer: Observer;
  readonly harness: TestAgent;
  close(): Promise<void>;
}

/** The set-up most pipeline and session suites share; `close` undoes it in reverse. */
export async function startAgentScene(
  options: { readonly persistence?: boolean; readonly observerId?: string } = {},
): Promise<AgentScene> {
  const broker = await startMosquitto({ persistence: options.persistence ?? false });
  const trust = await createTestTrust();
  const observer = await Observer.connect(
    broker,
    options.observerId === undefined ? {} : { persistentId: options.observerId },
  );
  const harness = await startTestAgent({ broker, trustRoot: trust.trustRoot });
  await observer.status('online');

  return {
    broker,
    trust,
    observer,
    harness,
    close: async () => {
      await harness.agent.stop('test over');
      await observer.close();
      await removeDir(harness.dir);
      await broker.dispose();
    },
  };
}
