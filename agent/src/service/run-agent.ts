import type { ActionDescriptor } from '@beckon/shared';
import type { DestinationStream } from 'pino';
import type { ActionRunner } from '../actions/types.js';
import { startAgent, type Agent } from '../agent.js';
import { loadConfig } from '../config/load-config.js';
import type { AgentConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../logger.js';
import type { ReconnectTimings } from '../mqtt/reconnect-schedule.js';
import { installSignalHandlers } from './signals.js';
import type { SystemdEnv } from './systemd.js';

/** What the daemon needs from the action-runner half of the agent. */
export interface AgentParts {
  /** May reject (e.g. a run-as user that does not exist); the agent then does not start. */
  createRunner(config: Readonly<AgentConfig>, logger: Logger): Promise<ActionRunner>;
  /** Descriptors of the configured actions, for the status message and `describe`. */
  describeActions(config: Readonly<AgentConfig>): readonly ActionDescriptor[];
}

export interface RunProcessOptions {
  readonly configPath: string;
  readonly env: SystemdEnv;
  readonly parts: AgentParts;
  /** Where log lines go; stdout (journald) when absent. */
  readonly logDestination?: DestinationStream;
  /** Where start-up errors go before a logger exists. */
  readonly stderr: (line: string) => void;
  readonly reconnectTimings?: ReconnectTimings;
  /** Called once the agent runs, for tests that drive it. */
  readonly onStarted?: (agent: Agent) => void;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;

/**
 * `beckon-agent run`: load the config, start the agent, and run until SIGTERM or SIGINT; a
 * second signal cuts the shutdown grace short. Resolves with the process exit code.
 */
export async function runAgentProcess(options: RunProcessOptions): Promise<number> {
  const loaded = await loadConfig(options.configPath);

  if (!loaded.ok) {
    for (const error of loaded.errors) {
      options.stderr(`beckon-agent: ${error}`);
    }

    return EXIT_FAILURE;
  }

  const { config } = loaded;
  const logger = createLogger(config.logLevel, options.logDestination);
  let agent: Agent;

  try {
    agent = await startAgent({
      config,
      runner: await options.parts.createRunner(config, logger),
      catalogue: options.parts.describeActions(config),
      logger,
      env: options.env,
      ...(options.reconnectTimings === undefined
        ? {}
        : { reconnectTimings: options.reconnectTimings }),
    });
  } catch (error) {
    logger.fatal({ err: error }, 'agent failed to start');
    options.stderr(`beckon-agent: ${(error as Error).message}`);

    return EXIT_FAILURE;
  }

  let removeHandlers: (() => void) | undefined;

  try {
    await new Promise<void>((resolve) => {
      let stopping = false;
      removeHandlers = installSignalHandlers((signal) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal, cutting the grace period short');
          agent.hurry();
          return;
        }

        stopping = true;
        logger.info({ signal }, 'signal received');
        void agent
          .stop(`${signal} received`)
          .catch((error: unknown) => logger.error({ err: error }, 'shutdown failed'))
          .finally(resolve);
      });
      options.onStarted?.(agent);
    });
  } finally {
    removeHandlers?.();
  }

  return EXIT_OK;
}
