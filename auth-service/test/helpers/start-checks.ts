import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createBrokerChecks, type BrokerChecks } from '../../src/broker/broker-checks.js';
import { listenBrokerChecks, type BrokerListener } from '../../src/broker/listen.js';
import type { BrokerChecksOptionsInput } from '../../src/broker/options.js';
import type { DirectorySource } from '../../src/directory/types.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';

export interface RunningChecks {
  readonly checks: BrokerChecks;
  readonly listener: BrokerListener;
  readonly port: number;
  readonly metrics: MetricsRegistry;
  /** Every log line written so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Every log line as written, to search for leaked secrets. */
  readonly rawLogs: string[];
  close(): Promise<void>;
}

/** A broker-check listener on a free port with a debug logger whose lines the test can read. */
export async function startChecks(
  directory: DirectorySource,
  options: BrokerChecksOptionsInput = {},
  now?: () => number,
): Promise<RunningChecks> {
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') {
          rawLogs.push(line);
          logs.push(JSON.parse(line) as Record<string, unknown>);
        }
      }

      callback();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const metrics = new MetricsRegistry();
  const checks = createBrokerChecks({
    directory,
    options,
    logger,
    metrics,
    ...(now === undefined ? {} : { now }),
  });
  const listener = await listenBrokerChecks(checks, { logger });

  return {
    checks,
    listener,
    port: listener.port,
    metrics,
    logs,
    rawLogs,
    close: async () => {
      checks.close();
      await listener.close();
    },
  };
}
