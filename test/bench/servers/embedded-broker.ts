import { GoAuthClient, PlugClient } from '@beckon/auth-service';
import { startEmbeddedBroker, type BrokerAuthChecks } from '@beckon/local';
import { pino } from 'pino';
import { z } from 'zod';

// The embedded Aedes broker in a process of its own. argv: `plug <auth-service broker port>`
// asks the auth-service every question over the plug's HTTP requests (what Mosquitto with
// mosquitto-auth-plug does: a new connection per request); `go-auth <port>` asks as
// mosquitto-go-auth's http backend in Beckon's broker image does (JSON bodies, kept-alive
// connections); `open` answers yes to everything, the no-auth baseline.

/** Checks the embedded broker may have in flight at once in a storm (one per pending agent). */
const IN_FLIGHT_CHECKS = 128;
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
      // no superuser requests. Mosquitto asks one question at a time, so the plugin keeps
      // reusing one connection; Aedes asks up to a paced storm's 100 pending agents' questions
      // at once, and with Go's two idle connections would connect and close for most of them.
      return new GoAuthClient({
        disableSuperuser: true,
        idleConnections: IN_FLIGHT_CHECKS,
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
