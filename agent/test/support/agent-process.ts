import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TrustRoot } from '@beckon/shared';
import { JsonLogChild } from '@beckon/test-support';
import { writeCredentials } from '../../src/enroll/credentials-file.js';
import { AGENT_DIST } from './built-agent.js';

// The composed daemon in its own process, the way `beckon-agent run` runs it, with a small test
// runner in place of the production one (built separately), so the tests can deliver real
// SIGTERM and SIGKILL. Passed to `node -e`; it loads the compiled agent (see ensureAgentBuilt).
const CHILD_SOURCE = `
import { runAgentProcess } from ${JSON.stringify(pathToFileURL(AGENT_DIST).href)};

// /test/hang runs until aborted; /test/sleep {ms} finishes after that many milliseconds.
function createRunner() {
  let running = 0;

  return {
    get running() {
      return running;
    },
    get queued() {
      return 0;
    },
    canAccept: () => true,
    async run(request) {
      running += 1;

      try {
        const startedAt = new Date();
        request.onStart?.();
        const [program] = request.action.argv;
        const sleepMs = program === '/test/sleep' ? Number(request.args.ms) : undefined;
        const finished = await new Promise((resolve) => {
          const timer =
            sleepMs === undefined ? undefined : setTimeout(() => resolve(true), sleepMs);
          request.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              resolve(false);
            },
            { once: true },
          );
        });

        return {
          outcome: finished ? 'succeeded' : 'interrupted',
          exitCode: finished ? 0 : null,
          signal: finished ? null : 'SIGTERM',
          output: { stdout: finished ? 'slept' : '', stderr: '', truncated: false },
          startedAt,
          finishedAt: new Date(),
        };
      } finally {
        running -= 1;
      }
    },
  };
}

process.exitCode = await runAgentProcess({
  configPath: process.argv[1],
  env: process.env,
  parts: { createRunner: () => Promise.resolve(createRunner()), describeActions: () => [] },
  stderr: (line) => process.stderr.write(line + '\\n'),
  reconnectTimings: {
    firstSpreadMs: 300,
    baseMs: 100,
    capMs: 1_000,
    authBaseMs: 2_000,
    authCapMs: 8_000,
    minMs: 50,
  },
});
`;

export interface ChildConfig {
  readonly dir: string;
  readonly brokerUrl: string;
  readonly shutdownGraceSeconds: number;
}

/** Writes a YAML config (as an operator would) and credentials for agent-1 into `dir`. */
export async function writeChildFiles(config: ChildConfig, trustRoot: TrustRoot): Promise<string> {
  const configPath = join(config.dir, 'agent.yaml');
  await writeFile(
    configPath,
    [
      '# written by the service tests',
      'broker:',
      `  url: ${config.brokerUrl}`,
      `credentialsFile: ${join(config.dir, 'credentials.json')}`,
      `stateDir: ${join(config.dir, 'state')}`,
      'limits:',
      `  shutdownGraceSeconds: ${config.shutdownGraceSeconds}`,
      '  killGraceSeconds: 1',
      'actions:',
      '  hang:',
      '    argv: [/test/hang]',
      '  sleep:',
      '    argv: [/test/sleep, { arg: ms }]',
      '    args:',
      '      ms: { type: integer, min: 1, max: 60000 }',
      '',
    ].join('\n'),
  );
  await writeCredentials(join(config.dir, 'credentials.json'), {
    agentId: 'agent-1',
    username: 'agent-1',
    password: 'agent-password',
    groups: [],
    trustRoot,
    enrolledAt: new Date().toISOString(),
  });

  return configPath;
}

/** The agent daemon in its own process, its JSON log lines collected. */
export class AgentProcess extends JsonLogChild {
  constructor(configPath: string, env: Record<string, string> = {}) {
    super(process.execPath, ['--input-type=module', '-e', CHILD_SOURCE, configPath], {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      ...env,
    });
  }

  /** Teardown for afterEach: no grace, the test is over. */
  override dispose(): Promise<void> {
    return super.dispose('SIGKILL');
  }
}
