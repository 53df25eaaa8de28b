import { authPluginConfig, startMosquitto } from '@beckon/test-support';
import { z } from 'zod';

// Debian's Mosquitto in a process of its own, so the storm treats it like the embedded broker.
// argv: `plug <auth-service broker port> <plugin .so>` asks the auth-service through the test
// auth plugin as mosquitto-auth-plug does (a new connection per request, a superuser request
// before each ACL check); `go-auth <port> <plugin .so>` as mosquitto-go-auth does in Beckon's
// broker image (JSON bodies, one kept-alive connection, no superuser requests, a 2 s timeout);
// `open` lets everybody in with no plugin, the no-auth baseline. Either way every question is
// asked on the broker's only thread.

/** A storm holds one descriptor per agent; the default 1,024 would refuse half of 2,000. */
const OPEN_FILES = 16_384;
/** deploy/mosquitto/mosquitto.conf's auth_opt_http_timeout. */
const GO_AUTH_TIMEOUT_S = 2;
const Port = z.coerce.number().int().min(1).max(65_535);
const Args = z.union([
  z.tuple([z.enum(['plug', 'go-auth']), Port, z.string().min(1)]),
  z.tuple([z.literal('open')]),
]);

function authConfig(args: z.infer<typeof Args>): string[] {
  if (args[0] === 'open') {
    return [];
  }

  const [mode, port, pluginPath] = args;

  return authPluginConfig({
    pluginPath,
    mode,
    port,
    ...(mode === 'go-auth' ? { options: { http_timeout: GO_AUTH_TIMEOUT_S } } : {}),
  });
}

async function main(): Promise<void> {
  const args = Args.parse(process.argv.slice(2));
  const broker = await startMosquitto({
    allowAnonymous: args[0] === 'open',
    openFiles: OPEN_FILES,
    // Three log lines per client would make the broker write more than it routes.
    extraConfig: ['connection_messages false', ...authConfig(args)],
  });

  process.once('SIGTERM', () => {
    void broker.dispose().finally(() => process.exit(0));
  });
  process.send?.({ port: broker.port, pid: broker.pid() });
}

main().catch((error: unknown) => {
  process.stderr.write(`mosquitto broker failed: ${String(error)}\n`);
  process.exitCode = 1;
});
