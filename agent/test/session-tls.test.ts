import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Observer, removeDir, startTestAgent, tempDir } from './support/harness.js';
import { createTestTrust } from './support/signing.js';

const run = promisify(execFile);
const SERVER_NAME = 'broker.beckon.test';

let broker: RunningMosquitto;
let certs: string;
let tlsPort: number;
let observer: Observer;

// A throwaway CA and a broker certificate for SERVER_NAME only (not for 127.0.0.1), so the
// agent connects only when it verifies against the CA file under the configured server name.
async function makeCertificates(dir: string): Promise<void> {
  const at = (name: string) => join(dir, name);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=beckon test CA',
  ]);
  await run('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
    '-subj',
    `/CN=${SERVER_NAME}`,
  ]);
  await run('sh', ['-c', `printf 'subjectAltName=DNS:${SERVER_NAME}\\n' > ${at('san.ext')}`]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.pem'),
    '-days',
    '1',
    '-extfile',
    at('san.ext'),
  ]);
}

beforeAll(async () => {
  certs = await tempDir('tls');
  await makeCertificates(certs);
  tlsPort = await freePort();
  broker = await startMosquitto({
    extraConfig: [
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${join(certs, 'ca.pem')}`,
      `certfile ${join(certs, 'server.pem')}`,
      `keyfile ${join(certs, 'server.key')}`,
    ],
  });
  observer = await Observer.connect(broker);
});

afterAll(async () => {
  await observer.close();
  await broker.dispose();
  await removeDir(certs);
});

async function agentOverTls(serverName: string) {
  return startTestAgent({
    broker,
    trustRoot: (await createTestTrust()).trustRoot,
    brokerOverrides: {
      url: `mqtts://127.0.0.1:${tlsPort}`,
      caFile: join(certs, 'ca.pem'),
      serverName,
    },
  });
}

it('connects over mqtts, verifying the broker against the CA file and server name', async () => {
  const started = Date.now();
  const harness = await agentOverTls(SERVER_NAME);

  try {
    expect((await observer.status('online', started)).agentId).toBe('agent-1');
  } finally {
    await harness.agent.stop('test over');
    await removeDir(harness.dir);
  }
});

it('refuses a broker whose certificate does not match the server name', async () => {
  const harness = await agentOverTls('someone-else.beckon.test');

  try {
    const error = await harness.logs.waitFor(
      (line) => line.msg === 'connection error',
      'the TLS failure',
    );

    expect(JSON.stringify(error['err'])).toContain('someone-else.beckon.test');
    expect(harness.agent.state).not.toBe('connected');
  } finally {
    await harness.agent.stop('test over');
    await removeDir(harness.dir);
  }
});
