import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AgentConfig,
  createActionRunner,
  createLogger,
  describeActions,
  startAgent,
  type Agent,
} from '@beckon/agent';
import { z } from 'zod';

// Real agents (`startAgent`, the daemon minus signal handling) in a process apart from the
// client that commands them. argv[2] is a JSON file listing agent config files. Reports over
// IPC once every agent holds its subscription; SIGTERM stops them all in order.

const ConfigList = z.array(z.string().min(1)).min(1);
const READY_POLL_MS = 50;
/** Agents starting at once: each opens its journal and dials the broker. */
const START_CONCURRENCY = 25;

async function startOne(path: string): Promise<Agent> {
  const config = AgentConfig.parse(JSON.parse(await readFile(path, 'utf8')));
  const logger = createLogger(config.logLevel);

  return startAgent({
    config,
    runner: createActionRunner({ limits: config.limits, logger }),
    catalogue: describeActions(config),
    logger,
  });
}

async function main(listPath: string): Promise<void> {
  const paths = ConfigList.parse(JSON.parse(await readFile(listPath, 'utf8')));
  const agents: Agent[] = [];

  for (let start = 0; start < paths.length; start += START_CONCURRENCY) {
    agents.push(
      ...(await Promise.all(paths.slice(start, start + START_CONCURRENCY).map(startOne))),
    );
  }

  while (agents.some((agent) => agent.state !== 'connected')) {
    await sleep(READY_POLL_MS);
  }

  const stop = (): void => {
    // Exit explicitly: a lingering handle must not keep the benchmark waiting.
    void Promise.all(agents.map((agent) => agent.stop('benchmark finished'))).finally(() => {
      process.exit(0);
    });
  };

  process.once('SIGTERM', stop);
  process.send?.({ port: 0, agents: agents.length, rssBytes: process.memoryUsage().rss });
}

const listPath = process.argv[2];

if (listPath === undefined) {
  process.stderr.write('usage: agent-host.js <config-list.json>\n');
  process.exitCode = 2;
} else {
  main(listPath).catch((error: unknown) => {
    process.stderr.write(`agent host failed: ${String(error)}\n`);
    process.exitCode = 1;
  });
}
