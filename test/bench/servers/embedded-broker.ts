import { GoAuthClient, PlugClient } from '@beckon/auth-service';
import { startEmbeddedBroker, type BrokerAuthChecks } from '@beckon/local';
import { pino } from 'pino';
import { z } from 'zod';

// The embedded Aedes broker in a process of its own. argv: `plug <auth-service broker port>`
// asks the auth-service every question over the plug's HTTP requests (what Mosquitto with
// mosquitto-auth-plug does: a new connection per request); `go-auth <port>` asks as
// mosquitto-go-auth's http backend in Beckon's broker image does (JSON bodies, kept-alive
// connections); `open` answers yes to everything, the no-auth baseline.

const Port = z.coerce.number().int().min(1).max(65_535);
const Args = z.union([z.tuple([z.enum(['plug', 'go-auth']), Port]), z.tuple([z.literal('open')])]);

const allowAll: BrokerAuthChecks = {
  authenticate: () => Promise.resolve('yes'),
  checkAcl: () => Promise.resolve('yes'),
};

function checksFor(args: z.infer<typeof Args>): BrokerAuthChecks {
  switch (args[0]) {
    case 'open':
      return allowAll;
    case 'plug':
      return new PlugClient({ backend: 'http', ip: '127.0.0.1', port: args[1] });
    case 'go-auth':
      // As deploy/mosquitto/mosquitto.conf sets it up: the auth-service's default go-auth URIs,
      // no superuser requests.
      return new GoAuthClient({
        disableSuperuser: true,
        host: '127.0.0.1',
        port: args[1],
        uris: {
          getuser: '/go-auth/user',
          superuser: '/go-auth/superuser',
          aclcheck: '/go-auth/acl',
        },
      });
  }
}

async function main(): Promise<void> {
  const args = Args.parse(process.argv.slice(2));
  const checks = checksFor(args);
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
