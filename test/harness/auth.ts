import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthServiceConfig,
  createAdminToken,
  PlugClient,
  startAuthService,
  type AuthService,
  type AuthServiceConfigInput,
} from '@beckon/auth-service';
import { pino, type Logger } from 'pino';
import { AdminApi } from './admin-api.js';

export interface RunningAuth {
  readonly service: AuthService;
  readonly adminUrl: string;
  readonly publicUrl: string;
  readonly admin: AdminApi;
  /** Asks the broker-check listener exactly as mosquitto-auth-plug's http backend does. */
  readonly plug: PlugClient;
  readonly issuer: string;
  close(): Promise<void>;
}

export interface AuthOptions {
  readonly config?: Partial<AuthServiceConfigInput>;
  readonly logger?: Logger;
}

/** The real auth-service on free ports over a fresh SQLite file, with one admin token. */
export async function startAuth(options: AuthOptions = {}): Promise<RunningAuth> {
  const folder = await mkdtemp(join(tmpdir(), 'beckon-e2e-auth-'));
  const issuer = 'beckon-e2e';
  const config = AuthServiceConfig.parse({
    store: { kind: 'sqlite', path: join(folder, 'auth.db') },
    listeners: {
      admin: { host: '127.0.0.1', port: 0 },
      public: { host: '127.0.0.1', port: 0 },
      broker: { host: '127.0.0.1', port: 0 },
    },
    issuer,
    // A test fleet enrolls all at once from one address; the per-source limit is for the internet.
    publicLimits: { burst: 10_000, perSecond: 10_000 },
    ...options.config,
  });
  const service = await startAuthService({
    config,
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  const { token } = await createAdminToken(service.store, 'e2e', 'e2e');
  const adminUrl = `http://127.0.0.1:${service.ports.admin}`;

  return {
    service,
    adminUrl,
    publicUrl: `http://127.0.0.1:${service.ports.public}`,
    admin: new AdminApi(adminUrl, token),
    plug: new PlugClient({ backend: 'http', ip: '127.0.0.1', port: service.ports.broker }),
    issuer,
    close: async () => {
      await service.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
