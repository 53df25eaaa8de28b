import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBeckonError, type BeckonClient } from '@beckon/client';
import type { EmbeddedBroker } from '@beckon/local';
import type { Result } from '@beckon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp } from '../harness/app.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { startAuthedBroker } from '../harness/broker.js';
import { AgentCliProcess, writeAgentFile } from './support/agent-process.js';
import { waitFor } from './support/wait.js';
import { enrollAgent } from '../harness/agent.js';

// The real `beckon-agent run` process is killed with SIGKILL while an action runs, then started
// again with the same config and state folder, as systemd's Restart=always would.

const CONNECTED_TIMEOUT_MS = 30_000;
const RESULT_TIMEOUT_MS = 90_000;

let auth: RunningAuth;
let broker: EmbeddedBroker;
let client: BeckonClient;
let folder: string;
let configPath: string;
let runsFile: string;
let pidFile: string;
const processes: AgentCliProcess[] = [];
let agentDir: string;

function connected(agent: AgentCliProcess): Promise<unknown> {
  return agent.waitForLog(
    (line) => line.msg === 'agent state' && line['state'] === 'connected',
    CONNECTED_TIMEOUT_MS,
  );
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'beckon-reliability-sigkill-'));
  runsFile = join(folder, 'runs.log');
  pidFile = join(folder, 'action.pid');
  const program = join(folder, 'long.sh');
  // Records the run, leaves its pid (the test stands in for systemd's cgroup kill), then sleeps.
  await writeFile(
    program,
    `#!/bin/sh\nprintf '%s\\n' "$1" >> '${runsFile}'\necho $$ > '${pidFile}'\nexec /bin/sleep 600\n`,
  );
  await chmod(program, 0o755);
  await writeFile(runsFile, '');

  auth = await startAuth();
  broker = await startAuthedBroker(auth);
  const enrolled = await enrollAgent(auth, 'kill-01');
  agentDir = enrolled.dir;
  configPath = await writeAgentFile(enrolled, {
    brokerUrl: broker.url,
    actions: {
      long: {
        argv: [program, { arg: 'id' }],
        args: { id: { type: 'string', pattern: '[a-z0-9-]+' } },
        timeoutSeconds: 600,
      },
    },
  });
  const app = await addApp(auth, 'killer', [{ agents: ['kill-01'] }]);
  client = await connectApp(auth, broker.url, app);
});

afterAll(async () => {
  await killLeftoverAction();
  await Promise.all(processes.map((agent) => agent.dispose()));
  await client.close();
  await broker.close();
  await auth.close();
  await rm(folder, { recursive: true, force: true });
  await rm(agentDir, { recursive: true, force: true });
});

// SIGKILL of the agent leaves its action's process group running (it is detached on purpose);
// under systemd the unit's cgroup is killed with it. Here the test does that part.
async function killLeftoverAction(): Promise<void> {
  try {
    process.kill(-Number((await readFile(pidFile, 'utf8')).trim()), 'SIGKILL');
  } catch {
    // Already gone, or never started.
  }
}

describe('an agent killed with SIGKILL during a long action', () => {
  it('reports the command interrupted after its restart and never runs it again', async () => {
    const first = new AgentCliProcess(configPath);
    processes.push(first);
    await connected(first);

    const handle = client.start(
      'kill-01',
      'long',
      { id: 'run-once' },
      { timeout: RESULT_TIMEOUT_MS },
    );
    const settled = handle.result.then(
      (result): Result => result,
      (error: unknown): Result | undefined => (isBeckonError(error) ? error.result : undefined),
    );
    await waitFor(async () => (await readFile(runsFile, 'utf8')) !== '', 'the action to start');

    first.kill('SIGKILL');
    expect((await first.waitForExit()).signal).toBe('SIGKILL');
    await killLeftoverAction();

    const second = new AgentCliProcess(configPath);
    processes.push(second);
    const result = await settled;

    expect(result).toMatchObject({
      commandId: handle.id,
      outcome: 'interrupted',
      error: { code: 'interrupted' },
    });
    expect(
      second.logs.some(
        (line) =>
          line.msg === 'command was interrupted by the previous stop' &&
          line['commandId'] === handle.id,
      ),
    ).toBe(true);

    // A later command is answered, so anything queued for the agent has been handled by now.
    await connected(second);
    await client.send('kill-01', 'ping', {}, { timeout: RESULT_TIMEOUT_MS });

    expect(await readFile(runsFile, 'utf8')).toBe('run-once\n');
  });
});
