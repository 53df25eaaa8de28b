import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from './helpers/setup.js';
import { startStandIn } from './helpers/stand-in-agent.js';

const SERVER_NAME = 'broker.beckon.test';

let dir: string;
let tlsBroker: RunningMosquitto;
let world: World;

// A throwaway CA and a server certificate for a name that is not the address we dial, so the
// client must pass `servername` for the certificate to match.
async function makeCertificates(folder: string): Promise<void> {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: folder, stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await writeFile(join(folder, 'san.ext'), `subjectAltName=DNS:${SERVER_NAME}\n`);
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=beckon test CA',
    '-days',
    '1',
  );
  openssl(
    'req',
    ...ec,
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    `/CN=${SERVER_NAME}`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'beckon-client-tls-'));
  await makeCertificates(dir);
  tlsBroker = await startMosquitto({
    extraConfig: [
      `cafile ${join(dir, 'ca.crt')}`,
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
    ],
  });
  world = await startWorld();
});

afterAll(async () => {
  await world.dispose();
  await tlsBroker.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('mqtts', () => {
  it('sends over TLS with a CA file and a server name', async () => {
    const url = `mqtts://127.0.0.1:${tlsBroker.port}`;
    const agent = await startStandIn({
      url,
      agentId: 'tls-01',
      groups: ['all'],
      trustRoot: world.trust.trustRoot,
      tls: { ca: await readFile(join(dir, 'ca.crt')), servername: SERVER_NAME },
    });
    const client = await world.connectApp({
      url,
      caFile: join(dir, 'ca.crt'),
      servername: SERVER_NAME,
    });

    await expect(client.send('tls-01', 'ping', {})).resolves.toMatchObject({
      outcome: 'succeeded',
    });
    await agent.stop();
  });

  it('does not connect when the certificate does not match the name it checks', async () => {
    await expect(
      world.connectApp({
        url: `mqtts://127.0.0.1:${tlsBroker.port}`,
        caFile: join(dir, 'ca.crt'),
        connectTimeout: 1_000,
      }),
    ).rejects.toMatchObject({
      code: 'not_connected',
      message: expect.stringContaining(`IP: 127.0.0.1 is not in the cert's list`) as unknown,
    });
  });
});
