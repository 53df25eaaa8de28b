import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonLogChild, type LogLine } from '@beckon/test-support';
import type { ActionsInput, EnrolledAgent } from '../../harness/agent.js';
import { REPO_ROOT } from './paths.js';

const AGENT_CLI = join(REPO_ROOT, 'agent', 'dist', 'cli.js');

/** When a line was logged, in epoch ms (the agent logs ISO timestamps). */
export function logTime(line: LogLine): number {
  return typeof line['time'] === 'number' ? line['time'] : Date.parse(String(line['time']));
}

export interface AgentFileOptions {
  readonly brokerUrl: string;
  readonly protocolVersion?: 4 | 5;
  readonly actions?: ActionsInput;
  readonly logLevel?: string;
  readonly authUrl?: string;
}

/** Writes the YAML (JSON is YAML) an installer would write next to the enrolled credentials. */
export async function writeAgentFile(
  enrolled: EnrolledAgent,
  options: AgentFileOptions,
): Promise<string> {
  const path = join(enrolled.dir, 'agent.yaml');
  const config = {
    broker: { url: options.brokerUrl, protocolVersion: options.protocolVersion ?? 4 },
    credentialsFile: enrolled.credentialsFile,
    stateDir: join(enrolled.dir, 'state'),
    limits: { shutdownGraceSeconds: 5, killGraceSeconds: 1 },
    logLevel: options.logLevel ?? 'info',
    ...(options.authUrl === undefined ? {} : { authUrl: options.authUrl }),
    actions: options.actions ?? {},
  };
  await writeFile(path, JSON.stringify(config, null, 2));

  return path;
}

/**
 * `beckon-agent run --config FILE` (the built CLI, production runner and backoff) in its own
 * process, as systemd runs it; its JSON log lines are kept.
 */
export class AgentCliProcess extends JsonLogChild {
  constructor(configPath: string) {
    super(process.execPath, [AGENT_CLI, 'run', '--config', configPath], {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    });
  }
}
