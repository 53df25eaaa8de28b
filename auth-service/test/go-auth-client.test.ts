import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerChecksOptionsInput } from '../src/broker/options.js';
import { GoAuthClient, type GoAuthClientOptions } from '../src/plug-client/go-auth-client.js';
import { MemoryDirectory } from './helpers/memory-directory.js';
import { startChecks, type RunningChecks } from './helpers/start-checks.js';

// GoAuthClient stands in for mosquitto-go-auth's http backend (the plugin in Beckon's broker
// image) in the benchmarks and the deploy tests, so it must ask what the plugin asks and read
// the answers as the plugin does; here it asks the real broker-check listener.

const RESULTS_A = 'beckon/v1/agents/agent-a/results';
const COMMANDS_A = 'beckon/v1/agents/agent-a/commands';
const GO_AUTH_URIS = {
  getuser: '/go-auth/user',
  superuser: '/go-auth/superuser',
  aclcheck: '/go-auth/acl',
} as const;

let service: RunningChecks | undefined;
const clients: GoAuthClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) {
    client.close();
  }

  await service?.close();
  service = undefined;
});

async function clientFor(
  options: Partial<GoAuthClientOptions> = {},
  serviceOptions: BrokerChecksOptionsInput = {},
): Promise<GoAuthClient> {
  const directory = new MemoryDirectory({
    principals: [
      { id: 'agent-a', kind: 'agent', secret: 'agent-secret' },
      { id: 'app-p', kind: 'app', secret: 'app secret & <more>' },
    ],
    grants: [{ id: 'g', appId: 'app-p', agents: ['agent-a'], groups: [] }],
  });
  service = await startChecks(directory, serviceOptions);
  const client = new GoAuthClient({
    host: '127.0.0.1',
    port: service.port,
    uris: GO_AUTH_URIS,
    ...options,
  });
  clients.push(client);

  return client;
}

function counter(name: string): number {
  const text = service?.metrics.render() ?? '';

  return [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

describe.each(['json', 'form'] as const)('GoAuthClient with %s params', (paramsMode) => {
  it('logs in with the right secret only, whatever characters it holds', async () => {
    const client = await clientFor({ paramsMode });

    expect(await client.authenticate('agent-a', 'agent-secret', 'agent-a-1')).toBe('yes');
    expect(await client.authenticate('agent-a', 'wrong', 'agent-a-1')).toBe('no');
    expect(await client.authenticate('app-p', 'app secret & <more>', 'app-1')).toBe('yes');
  });

  it('answers ACL checks through the superuser and acl requests', async () => {
    const client = await clientFor({ paramsMode });

    expect(await client.checkAcl('app-p', RESULTS_A, 1, 'c')).toBe('yes');
    expect(await client.checkAcl('app-p', RESULTS_A, 2, 'c')).toBe('no');
    expect(await client.checkAcl('agent-a', COMMANDS_A, 4, 'c')).toBe('yes');
    expect(await client.checkAcl('agent-a', 'beckon/v1/agents/agent-b/commands', 4, 'c')).toBe(
      'no',
    );
  });
});

describe('GoAuthClient', () => {
  it('reads the json and text response modes from the body', async () => {
    for (const responseMode of ['json', 'text'] as const) {
      const client = await clientFor({ responseMode }, { goAuth: { responseMode } });

      expect(await client.checkAcl('app-p', RESULTS_A, 1, 'c'), responseMode).toBe('yes');
      expect(await client.checkAcl('app-p', RESULTS_A, 2, 'c'), responseMode).toBe('no');
      await service?.close();
      service = undefined;
    }
  });

  it('skips the superuser request when no superuser URI is set', async () => {
    const client = await clientFor({
      uris: { getuser: '/go-auth/user', aclcheck: '/go-auth/acl' },
    });

    expect(await client.checkAcl('app-p', RESULTS_A, 1, 'c')).toBe('yes');
    expect(counter('beckon_auth_broker_checks_total')).toBe(1);
  });

  it('asks the acl request alone when superusers are disabled', async () => {
    const client = await clientFor({ disableSuperuser: true });

    expect(await client.checkAcl('app-p', RESULTS_A, 1, 'c')).toBe('yes');
    expect(await client.checkAcl('app-p', RESULTS_A, 2, 'c')).toBe('no');
    expect(counter('beckon_auth_broker_checks_total')).toBe(2);
  });

  it('asks over one kept-alive connection, as Go’s http.Client does', async () => {
    const client = await clientFor();
    let connections = 0;
    service?.listener.server.on('connection', () => {
      connections += 1;
    });

    for (let n = 0; n < 10; n += 1) {
      expect(await client.checkAcl('app-p', RESULTS_A, 1, 'c')).toBe('yes');
    }

    expect(connections).toBe(1);
  });

  it('reports an error when nothing answers, and when the service answers 5xx', async () => {
    const server: Server = createServer((socket) => {
      socket.once('data', () => {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;

    try {
      const failing = new GoAuthClient({ host: '127.0.0.1', port, uris: GO_AUTH_URIS });
      clients.push(failing);
      expect(await failing.authenticate('agent-a', 'agent-secret')).toBe('error');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    const unreachable = new GoAuthClient({ host: '127.0.0.1', port, uris: GO_AUTH_URIS });
    clients.push(unreachable);
    expect(await unreachable.authenticate('agent-a', 'agent-secret')).toBe('error');
  });

  it('refuses a URI or host with white space, which would break the request head', () => {
    const options = { host: '127.0.0.1', port: 1, uris: GO_AUTH_URIS };

    expect(
      () => new GoAuthClient({ ...options, uris: { ...GO_AUTH_URIS, aclcheck: '/acl x' } }),
    ).toThrow(/aclcheck must not contain white space/);
    expect(() => new GoAuthClient({ ...options, host: 'a\r\nX: y' })).toThrow(/host/);
    expect(() => new GoAuthClient({ ...options, userAgent: 'a\r\nX: y' })).toThrow(/userAgent/);
    expect(() => new GoAuthClient({ ...options, idleConnections: -1 })).toThrow(/idleConnections/);
  });

  it('refuses form params with GET, which the plugin cannot send', () => {
    expect(
      () =>
        new GoAuthClient({
          host: '127.0.0.1',
          port: 1,
          uris: GO_AUTH_URIS,
          paramsMode: 'form',
          method: 'GET',
        }),
    ).toThrow(/POST or PUT/);
  });
});
