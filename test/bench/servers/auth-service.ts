import { readFile } from 'node:fs/promises';
import { AuthServiceConfig, startAuthService } from '@beckon/auth-service';
import { pino } from 'pino';
import { reportServerPauses } from '../lib/server-pauses.js';

// The auth-service under test in a process of its own, started from a config file (argv[2]).
// It reports its ports over IPC once all three listeners are up; SIGTERM stops it cleanly (so a
// --cpu-prof profile gets written).

async function main(configPath: string): Promise<void> {
  const config = AuthServiceConfig.parse(JSON.parse(await readFile(configPath, 'utf8')));
  const logger = pino({ level: config.logLevel });
  const service = await startAuthService({ config, logger, handleSignals: true });

  reportServerPauses();

  process.send?.({ port: service.ports.broker, ports: service.ports });
  await service.closed;
  process.disconnect();
}

const configPath = process.argv[2];

if (configPath === undefined) {
  process.stderr.write('usage: auth-service.js <config.json>\n');
  process.exitCode = 2;
} else {
  main(configPath).catch((error: unknown) => {
    process.stderr.write(`auth-service failed to start: ${String(error)}\n`);
    process.exitCode = 1;
  });
}
