import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FanOutProgress } from '../src/index.js';
import { startWorld, type World } from './helpers/setup.js';
import { startStandIn, type StandInAgent } from './helpers/stand-in-agent.js';

const AGENT_COUNT = 20;
const agentIds = Array.from(
  { length: AGENT_COUNT },
  (_, index) => `node-${String(index).padStart(2, '0')}`,
);

let world: World;
let agents: StandInAgent[];
let inFlight = 0;
let maxInFlight = 0;
let release: (() => void)[] = [];

// Each agent holds its command until the test releases it, so concurrency can be observed.
function holdUntilReleased(failing: ReadonlySet<string>) {
  return (agentId: string) => async () => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise<void>((resolve) => release.push(resolve));
    inFlight -= 1;

    return failing.has(agentId)
      ? {
          outcome: 'failed' as const,
          exitCode: 1,
          error: { code: 'non_zero_exit' as const, message: 'exit 1' },
        }
      : { stdout: agentId };
  };
}

// Releases held commands one by one for as long as the fan-out runs.
async function releaseWhileRunning<T>(run: Promise<T>): Promise<T> {
  const state = { done: false };
  const finished = run.finally(() => {
    state.done = true;
  });

  while (!state.done) {
    const next = release.shift();

    if (next === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }

    next();
  }

  return finished;
}

beforeAll(async () => {
  world = await startWorld({
    grants: [{ groups: ['fleet'] }],
    groups: { web: agentIds.slice(0, 5) },
  });
  agents = await Promise.all(
    agentIds.map((agentId) =>
      startStandIn({
        url: world.broker.url,
        agentId,
        groups: ['fleet'],
        trustRoot: world.trust.trustRoot,
      }),
    ),
  );
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await world.dispose();
});

function useHandlers(failing: ReadonlySet<string> = new Set()): void {
  inFlight = 0;
  maxInFlight = 0;
  release = [];
  const hold = holdUntilReleased(failing);

  for (const agent of agents) {
    agent.handler = hold(agent.agentId);
  }
}

describe('sendMany', () => {
  it('reaches every agent with at most `concurrency` commands in flight', async () => {
    useHandlers();
    const client = await world.connectApp();
    const progress: FanOutProgress[] = [];

    const report = await releaseWhileRunning(
      client.sendMany(
        agentIds,
        'ping',
        {},
        {
          concurrency: 4,
          onProgress: (update) => progress.push(update),
        },
      ),
    );

    expect(report.succeeded).toBe(AGENT_COUNT);
    expect(report.outcomes.map((outcome) => outcome.agentId)).toEqual(agentIds);
    expect(report.outcomes.every((outcome) => outcome.status === 'succeeded')).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(progress).toHaveLength(AGENT_COUNT);
    expect(progress.at(-1)).toMatchObject({ total: AGENT_COUNT, succeeded: AGENT_COUNT });
  });

  it('prints no MaxListenersExceededWarning when more than ten sends share its signal', async () => {
    // Regression: every send in flight listens on the fan-out's one AbortSignal, and Node
    // warned of a "possible memory leak" past ten listeners, into the app's own stderr.
    useHandlers();
    const client = await world.connectApp();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);

    try {
      const report = await releaseWhileRunning(
        client.sendMany(agentIds, 'ping', {}, { concurrency: AGENT_COUNT }),
      );
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));

      expect(report.succeeded).toBe(AGENT_COUNT);
      expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('stops launching once errors pass maxErrors and reports the rest as not-sent', async () => {
    // The first four agents fail; with one at a time, the third error passes maxErrors 2.
    useHandlers(new Set(agentIds.slice(0, 4)));
    const client = await world.connectApp();

    const report = await releaseWhileRunning(
      client.sendMany(agentIds, 'ping', {}, { concurrency: 1, maxErrors: 2 }),
    );

    expect(report.stopped).toBe(true);
    expect(report.failed).toBe(3);
    expect(report.notSent).toBe(AGENT_COUNT - 3);
    expect(report.outcomes[0]).toMatchObject({
      status: 'failed',
      error: { code: 'failed', agentCode: 'non_zero_exit' },
    });
    expect(report.outcomes[3]).toEqual({ agentId: agentIds[3], status: 'not-sent' });
  });

  it('takes maxErrors as a share of the targets', async () => {
    // 10% of 20 agents tolerates 2 errors; the third stops the fan-out.
    useHandlers(new Set(agentIds.slice(0, 10)));
    const client = await world.connectApp();

    const report = await releaseWhileRunning(
      client.sendMany(agentIds, 'ping', {}, { concurrency: 1, maxErrors: '10%' }),
    );

    expect(report.failed).toBe(3);
    expect(report.notSent).toBe(17);
  });

  it('counts a send as succeeded even when the progress callback throws', async () => {
    useHandlers();
    const client = await world.connectApp();

    const report = await releaseWhileRunning(
      client.sendMany(
        agentIds.slice(0, 3),
        'ping',
        {},
        {
          onProgress: () => {
            throw new Error('callback bug');
          },
        },
      ),
    );

    expect(report.succeeded).toBe(3);
  });

  it('resolves a group through the auth-service and sends to its members', async () => {
    useHandlers();
    const client = await world.connectApp();

    const report = await releaseWhileRunning(client.sendMany({ group: 'web' }, 'ping', {}));

    expect(report.outcomes.map((outcome) => outcome.agentId)).toEqual(agentIds.slice(0, 5));
    expect(report.succeeded).toBe(5);
  });

  it('refuses an unknown group and bad limits, naming them', async () => {
    const client = await world.connectApp();

    await expect(client.sendMany({ group: 'nope' }, 'ping', {})).rejects.toMatchObject({
      code: 'invalid_arguments',
      message: expect.stringContaining('unknown_group') as unknown,
    });
    await expect(client.sendMany(agentIds, 'ping', {}, { concurrency: 0 })).rejects.toMatchObject({
      code: 'invalid_arguments',
      argument: 'options.concurrency',
    });
    await expect(
      client.sendMany(agentIds, 'ping', {}, { maxErrors: 'many' as '1%' }),
    ).rejects.toMatchObject({ argument: 'options.maxErrors' });
    await expect(client.sendMany(['bad/id'], 'ping', {})).rejects.toMatchObject({
      argument: 'agents',
    });
    await expect(client.sendMany(['node-01', 'node-01'], 'ping', {})).rejects.toMatchObject({
      argument: 'agents',
      message: expect.stringContaining('names an agent twice') as unknown,
    });
  });
});
