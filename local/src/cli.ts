#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { pino } from 'pino';
import { z } from 'zod';
import { LOCAL_AGENT_ID, startLocalSystem } from './local-system.js';

const USAGE = `Usage: pnpm start [-- options]   (node local/dist/cli.js [options])

Starts Beckon on this machine: the auth-service (SQLite), an MQTT broker that asks it every
question as mosquitto-auth-plug would, and one agent with example actions. Ctrl-C stops it.

Options:
  --dir <path>               state folder, emptied at start (default .beckon-local)
  --host <address>           address every listener binds (default 127.0.0.1)
  --mqtt-port <n>            embedded broker (default 1884; 1883 is usually Mosquitto's)
  --admin-port <n>           auth-service admin listener (default 8182)
  --public-port <n>          auth-service public listener (default 8183)
  --broker-check-port <n>    auth-service broker-check listener (default 8181)
  --broker <mqtt://host:port>  use this broker instead of the embedded one
  --help                     print this help`;

const Port = z.coerce.number().int().min(0).max(65_535);

const Flags = z.strictObject({
  dir: z.string().min(1).default('.beckon-local'),
  host: z.string().min(1).default('127.0.0.1'),
  'mqtt-port': Port.default(1884),
  'admin-port': Port.default(8182),
  'public-port': Port.default(8183),
  'broker-check-port': Port.default(8181),
  broker: z
    .string()
    .regex(/^mqtts?:\/\/[^/\s]+$/, { error: 'must be mqtt://host:port or mqtts://host:port' })
    .optional(),
  help: z.boolean().optional(),
});

function fail(message: string, code: number): never {
  process.stderr.write(`beckon-local: ${message}\n`);
  process.exit(code);
}

function readFlags(): z.infer<typeof Flags> {
  let values: Record<string, unknown>;

  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: 'string' },
        host: { type: 'string' },
        'mqtt-port': { type: 'string' },
        'admin-port': { type: 'string' },
        'public-port': { type: 'string' },
        'broker-check-port': { type: 'string' },
        broker: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`, 2);
  }

  const parsed = Flags.safeParse(values);

  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`--${String(issue?.path[0] ?? '')}: ${issue?.message ?? 'invalid'}`, 2);
  }

  return parsed.data;
}

async function main(): Promise<void> {
  const flags = readFlags();

  if (flags.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  // A fresh system each time: new store, new enrollment, new app key.
  const dir = resolve(flags.dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Logs go to a file so the terminal shows only what to do next.
  const logFile = join(dir, 'beckon.log');
  const logger = pino({ level: 'info' }, pino.destination({ dest: logFile, sync: false }));
  const system = await startLocalSystem({
    dir,
    host: flags.host,
    ports: {
      admin: flags['admin-port'],
      public: flags['public-port'],
      brokerChecks: flags['broker-check-port'],
      mqtt: flags['mqtt-port'],
    },
    ...(flags.broker === undefined ? {} : { externalBroker: flags.broker }),
    logger,
  }).catch((error: unknown) => fail(`could not start: ${(error as Error).message}`, 1));

  const env = Object.entries(system.cliEnv)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');

  process.stdout.write(
    [
      'Beckon is running on this machine:',
      `  broker        ${system.brokerUrl}`,
      `  auth-service  ${system.adminUrl} (admin token in ${join(dir, 'admin-token')})`,
      `  agent         ${LOCAL_AGENT_ID} (actions: ping, describe, hello, uptime, disk-usage, sleep-for)`,
      `  logs          ${logFile}`,
      '',
      'Make the agent run an action:',
      `  ${env} node client/dist/cli.js send ${LOCAL_AGENT_ID} hello --arg name=world`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

  process.stdout.write('stopping...\n');
  await system.close();
  logger.flush();
  process.stdout.write('stopped\n');
}

void main();
