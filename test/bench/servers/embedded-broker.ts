import { PlugClient } from '@beckon/auth-service';
import { startEmbeddedBroker, type BrokerAuthChecks } from '@beckon/local';
import { pino } from 'pino';
import { z } from 'zod';

// The embedded Aedes broker in a process of its own. argv: `auth <auth-service broker port>`
// asks the auth-service every question over the plug's HTTP requests (what Mosquitto with
// mosquitto-auth-plug does); `open` answers yes to everything, the no-auth baseline.

const Args = z.union([
  z.tuple([z.literal('auth'), z.coerce.number().int().min(1).max(65_535)]),
  z.tuple([z.literal('open')]),
]);

const allowAll: BrokerAuthChecks = {
  authenticate: () => Promise.resolve('yes'),
  checkAcl: () => Promise.resolve('yes'),
};

async function main(): Promise<void> {
  const args = Args.parse(process.argv.slice(2));
  const checks =
    args[0] === 'auth'
      ? new PlugClient({ backend: 'http', ip: '127.0.0.1', port: args[1] })
      : allowAll;
  const broker = await startEmbeddedBroker({ checks, logger: pino({ level: 'warn' }), port: 0 });

  process.once('SIGTERM', () => {
    void broker.close().finally(() => process.exit(0));
  });
  process.send?.({ port: broker.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`embedded broker failed: ${String(error)}\n`);
  process.exitCode = 1;
});
