import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentConfig,
  createActionRunner,
  describeActions,
  enroll,
  startAgent,
  type Agent,
  type ReconnectTimings,
} from '@beckon/agent';
import { pino, type Logger } from 'pino';
import type { z } from 'zod';
import type { RunningAuth } from './auth.js';

/** Reconnect quickly: tests restart brokers and cannot wait for production backoff. */
export const FAST_RECONNECT: ReconnectTimings = {
  firstSpreadMs: 200,
  baseMs: 100,
  capMs: 1_000,
  authBaseMs: 500,
  authCapMs: 2_000,
  minMs: 50,
};

export type ActionsInput = z.input<typeof AgentConfig>['actions'];

export interface EnrolledAgent {
  readonly agentId: string;
  readonly dir: string;
  readonly credentialsFile: string;
  readonly password: string;
}

/**
 * Enrolls an agent the way `beckon-agent enroll` does: a one-time token at the public listener
 * of any running auth-service (in this process or its own).
 */
export async function enrollAgent(
  auth: Pick<RunningAuth, 'admin' | 'publicUrl'>,
  agentId: string,
  groups: readonly string[] = [],
): Promise<EnrolledAgent> {
  const dir = await mkdtemp(join(tmpdir(), `beckon-e2e-agent-${agentId}-`));
  const credentialsFile = join(dir, 'credentials.json');
  const token = await auth.admin.enrollToken(agentId, groups);
  const credentials = await enroll({
    url: auth.publicUrl,
    token,
    agentId,
    credentialsPath: credentialsFile,
  });

  return { agentId, dir, credentialsFile, password: credentials.password };
}

export interface AgentSetup {
  readonly brokerUrl: string;
  readonly protocolVersion?: 4 | 5;
  readonly actions?: ActionsInput;
  readonly requireSignatures?: boolean;
  readonly logger?: Logger;
  /** For agents run as processes; their logs go to stdout. */
  readonly logLevel?: 'warn' | 'info' | 'debug';
}

/** The config an installer would write for this agent, as an object and as a file. */
export async function writeAgentConfig(
  enrolled: EnrolledAgent,
  setup: AgentSetup,
): Promise<{ config: AgentConfig; path: string }> {
  const input = {
    broker: { url: setup.brokerUrl, protocolVersion: setup.protocolVersion ?? 4 },
    credentialsFile: enrolled.credentialsFile,
    stateDir: join(enrolled.dir, 'state'),
    security: { requireSignatures: setup.requireSignatures ?? true },
    limits: { shutdownGraceSeconds: 5, killGraceSeconds: 1 },
    logLevel: setup.logLevel ?? 'warn',
    actions: setup.actions ?? {},
  };
  const path = join(enrolled.dir, 'agent.yaml');
  await writeFile(path, JSON.stringify(input, null, 2));

  return { config: AgentConfig.parse(input), path };
}

export interface RunningAgent {
  readonly agentId: string;
  readonly agent: Agent;
  readonly enrolled: EnrolledAgent;
  stop(): Promise<void>;
}

/** Enrolls and starts a real agent in this process (the daemon minus signal handling). */
export async function startTestAgent(
  auth: RunningAuth,
  agentId: string,
  setup: AgentSetup & { readonly groups?: readonly string[] },
): Promise<RunningAgent> {
  const enrolled = await enrollAgent(auth, agentId, setup.groups);
  const { config } = await writeAgentConfig(enrolled, setup);
  const logger = setup.logger ?? pino({ level: 'silent' });
  const agent = await startAgent({
    config,
    runner: createActionRunner({ limits: config.limits, logger }),
    catalogue: describeActions(config),
    logger,
    reconnectTimings: FAST_RECONNECT,
  });

  return {
    agentId,
    agent,
    enrolled,
    stop: async () => {
      await agent.stop('test finished');
      await rm(enrolled.dir, { recursive: true, force: true });
    },
  };
}
