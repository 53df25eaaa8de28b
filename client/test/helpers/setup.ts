import { Writable } from 'node:stream';
import { generateSigningKeyPair, type Grant } from '@beckon/shared';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { pino, type Logger } from 'pino';
import { connect, type BeckonClient, type ConnectOptions } from '../../src/index.js';
import { startCredentialServer, type CredentialServer } from './credential-server.js';
import { createTrust, type TestTrust } from './trust.js';

export const APP_ID = 'deployer';
export const APP_SECRET = 'app-secret-for-tests';

/** A logger whose lines the test can read, to pin what was logged. */
export function memoryLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
      }

      done();
    },
  });

  return { logger: pino({ level: 'debug' }, stream), lines: () => lines };
}

export interface World {
  readonly broker: RunningMosquitto;
  readonly trust: TestTrust;
  readonly auth: CredentialServer;
  connectApp(overrides?: Partial<ConnectOptions>): Promise<BeckonClient>;
  dispose(): Promise<void>;
}

export interface WorldOptions {
  readonly grants?: readonly Grant[];
  readonly ttlSeconds?: number;
  readonly groups?: Readonly<Record<string, readonly string[]>>;
  readonly persistence?: boolean;
}

/** A real Mosquitto, a trust root and a credential endpoint; clients made here are closed too. */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const broker = await startMosquitto({ persistence: options.persistence ?? false });
  const trust = await createTrust();
  const auth = await startCredentialServer({
    trust,
    appId: APP_ID,
    secret: APP_SECRET,
    grants: options.grants ?? [{ groups: ['all'] }],
    ttlSeconds: options.ttlSeconds ?? 600,
    ...(options.groups === undefined ? {} : { groups: options.groups }),
  });
  const clients: BeckonClient[] = [];

  return {
    broker,
    trust,
    auth,
    connectApp: async (overrides = {}) => {
      const key = await generateSigningKeyPair('EdDSA');
      const client = await connect({
        url: broker.url,
        appId: APP_ID,
        secret: APP_SECRET,
        authUrl: auth.url,
        privateKey: key.privateKey,
        reconnect: { firstDelayMaxMs: 200, initialDelayMs: 200, maxDelayMs: 1_000 },
        ...overrides,
      });
      clients.push(client);

      return client;
    },
    dispose: async () => {
      await Promise.all(clients.map((client) => client.close()));
      await auth.close();
      await broker.dispose();
    },
  };
}
