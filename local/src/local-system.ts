import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  AgentConfig,
  createActionRunner,
  describeActions,
  enroll,
  startAgent,
  type Agent,
} from '@beckon/agent';
import {
  AuthServiceConfig,
  createAdminToken,
  PlugClient,
  startAuthService,
  type AuthService,
} from '@beckon/auth-service';
import { generateSigningKeyPair } from '@beckon/shared';
import { exportJWK } from 'jose';
import type { Logger } from 'pino';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { EXAMPLE_ACTIONS } from './example-actions.js';

export const LOCAL_AGENT_ID = 'local-agent';
export const LOCAL_APP_ID = 'local-app';

export interface LocalSystemOptions {
  /** Everything the system writes: store, credentials, keys. Must be empty or new. */
  readonly dir: string;
  readonly host: string;
  readonly ports: {
    readonly admin: number;
    readonly public: number;
    readonly brokerChecks: number;
    readonly mqtt: number;
  };
  /** Use this broker instead of the embedded one (it must let the agent and app in). */
  readonly externalBroker?: string;
  readonly logger: Logger;
}

export interface LocalSystem {
  readonly brokerUrl: string;
  readonly adminUrl: string;
  /** Environment for the `beckon` CLI, acting as the local app. */
  readonly cliEnv: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

async function writePrivate(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/**
 * Starts the auth-service on SQLite, the embedded broker asking it over the plug's requests,
 * and one enrolled agent, and registers an app granted that agent: the production path, on
 * one machine, with nothing but Node.js.
 */
export async function startLocalSystem(options: LocalSystemOptions): Promise<LocalSystem> {
  const { logger, host, ports } = options;
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) {
      await closer();
    }
  };

  try {
    const auth: AuthService = await startAuthService({
      config: AuthServiceConfig.parse({
        store: { kind: 'sqlite', path: join(dir, 'auth.db') },
        listeners: {
          admin: { host, port: ports.admin },
          public: { host, port: ports.public },
          broker: { host, port: ports.brokerChecks },
        },
        issuer: 'beckon-local',
      }),
      logger: logger.child({ part: 'auth-service' }),
    });
    closers.push(() => auth.close());

    const adminUrl = `http://${host}:${auth.ports.admin}`;
    const publicUrl = `http://${host}:${auth.ports.public}`;
    const { token: adminToken } = await createAdminToken(auth.store, 'beckon-local', 'local');
    await writePrivate(join(dir, 'admin-token'), `${adminToken}\n`);

    let brokerUrl = options.externalBroker;

    if (brokerUrl === undefined) {
      const broker: EmbeddedBroker = await startEmbeddedBroker({
        host,
        port: ports.mqtt,
        checks: new PlugClient({ backend: 'http', ip: host, port: auth.ports.broker }),
        logger: logger.child({ part: 'broker' }),
      });
      closers.push(() => broker.close());
      brokerUrl = broker.url;
    }

    const admin = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const response = await fetch(`${adminUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

      if (!response.ok) {
        throw new Error(
          `auth-service refused ${path}: ${response.status} ${await response.text()}`,
        );
      }

      return (await response.json()) as Record<string, unknown>;
    };

    const enrollToken = await admin('/v1/enroll-tokens', { agentId: LOCAL_AGENT_ID, uses: 1 });
    const credentialsFile = join(dir, 'agent-credentials.json');
    await enroll({
      url: publicUrl,
      token: String(enrollToken['token']),
      agentId: LOCAL_AGENT_ID,
      credentialsPath: credentialsFile,
    });

    const config = AgentConfig.parse({
      broker: { url: brokerUrl, protocolVersion: 4 },
      credentialsFile,
      stateDir: join(dir, 'agent-state'),
      authUrl: publicUrl,
      logLevel: 'info',
      actions: EXAMPLE_ACTIONS,
    });
    const agentLogger = logger.child({ part: 'agent' });
    const agent: Agent = await startAgent({
      config,
      runner: createActionRunner({ limits: config.limits, logger: agentLogger }),
      catalogue: describeActions(config),
      logger: agentLogger,
    });
    closers.push(() => agent.stop('local system stopping'));

    const app = await admin('/v1/apps', { id: LOCAL_APP_ID });
    await admin('/v1/grants', { appId: LOCAL_APP_ID, agents: [LOCAL_AGENT_ID] });
    const { privateKey, alg } = await generateSigningKeyPair('EdDSA');
    const keyFile = join(dir, 'app.jwk');
    const secretFile = join(dir, 'app.secret');
    await writePrivate(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), alg }));
    await writePrivate(secretFile, `${String(app['secret'])}\n`);

    return {
      brokerUrl,
      adminUrl,
      cliEnv: {
        BECKON_URL: brokerUrl,
        BECKON_APP_ID: LOCAL_APP_ID,
        BECKON_APP_SECRET_FILE: secretFile,
        BECKON_APP_KEY_FILE: keyFile,
        BECKON_AUTH_URL: adminUrl,
        BECKON_MQTT_VERSION: '3.1.1',
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
