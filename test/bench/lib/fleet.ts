import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enroll } from '@beckon/agent';
import { connect, type BeckonClient } from '@beckon/client';
import { createAdminToken, openStore } from '@beckon/auth-service';
import { generateSigningKeyPair } from '@beckon/shared';
import { exportJWK } from 'jose';
import { benchAuthConfig, writeAuthConfig } from './auth-config.js';
import { forkAuthService, forkServer, type ForkedServer, type ForkOptions } from './processes.js';
import { quietLogger } from './seed-directory.js';
import { stopProcess } from './teardown.js';

// The production setup for the agent-side benchmarks: a real auth-service (its own process,
// SQLite), two apps granted a group (one signing with Ed25519, the default, one with P-256:
// the auth-service pins one key per app), and agents enrolled into that group with one-time
// tokens, each with the config file an installer would write.

export const FLEET_GROUP = 'fleet';
export const BENCH_APP_ID = 'bench-app';
export const BENCH_ES256_APP_ID = 'bench-app-es256';
/** An action that spawns a process and does nothing, to show the cost of starting one. */
export const SPAWN_ACTION = 'spawn-true';
/** Enrolments in flight at once: each costs an scrypt hash and one store transaction. */
const ENROLL_CONCURRENCY = 8;

export interface FleetApp {
  readonly appId: string;
  readonly secret: string;
  readonly privateJwk: Record<string, unknown>;
}

export interface FleetAgent {
  readonly agentId: string;
  readonly configPath: string;
  readonly password: string;
}

export interface Fleet {
  readonly service: ForkedServer;
  readonly adminUrl: string;
  readonly app: FleetApp;
  /** The same grant, signing with ES256. */
  readonly es256App: FleetApp;
  readonly agents: readonly FleetAgent[];
  readonly folder: string;
  close(): Promise<void>;
}

export interface FleetOptions {
  readonly agents: number;
  readonly brokerUrl: string;
  readonly protocolVersion: 4 | 5;
  /** Runner limits for the spawned-action runs (built-ins do not queue). */
  readonly limits?: { readonly maxConcurrent: number; readonly maxQueued: number };
}

async function call(
  url: string,
  token: string,
  method: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;

  if (!response.ok) {
    throw new Error(`${method} ${url}: HTTP ${response.status} ${JSON.stringify(answer)}`);
  }

  return answer;
}

function agentConfig(
  options: FleetOptions,
  folder: string,
  credentialsFile: string,
): Record<string, unknown> {
  return {
    broker: { url: options.brokerUrl, protocolVersion: options.protocolVersion },
    credentialsFile,
    stateDir: join(folder, 'state'),
    security: { requireSignatures: true },
    limits: { ...options.limits, shutdownGraceSeconds: 5, killGraceSeconds: 1 },
    logLevel: 'warn',
    actions: { [SPAWN_ACTION]: { description: 'Starts /bin/true', argv: ['/bin/true'] } },
  };
}

async function enrollOne(
  publicUrl: string,
  token: string,
  agentId: string,
  folder: string,
  options: FleetOptions,
): Promise<FleetAgent> {
  const dir = join(folder, agentId);
  const credentialsFile = join(dir, 'credentials.json');
  const configPath = join(dir, 'agent.json');

  await mkdir(dir, { recursive: true, mode: 0o700 });

  const credentials = await enroll({
    url: publicUrl,
    token,
    agentId,
    credentialsPath: credentialsFile,
  });
  await writeFile(configPath, JSON.stringify(agentConfig(options, dir, credentialsFile), null, 2));

  return { agentId, configPath, password: credentials.password };
}

export function fleetAgentId(index: number): string {
  return `bench-agent-${String(index).padStart(4, '0')}`;
}

/** Registers an app granted the fleet's group, with a new signing key of `alg`. */
async function registerApp(
  adminUrl: string,
  adminToken: string,
  appId: string,
  alg: 'EdDSA' | 'ES256',
): Promise<FleetApp> {
  const created = await call(`${adminUrl}/v1/apps`, adminToken, 'POST', { id: appId });
  await call(`${adminUrl}/v1/grants`, adminToken, 'POST', { appId, groups: [FLEET_GROUP] });
  const { privateKey } = await generateSigningKeyPair(alg);
  const privateJwk = { ...(await exportJWK(privateKey)), alg };

  return { appId, secret: String(created['secret']), privateJwk };
}

/** Starts the auth-service, registers the apps and enrolls `options.agents` agents. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const folder = await mkdtemp(join(tmpdir(), 'beckon-bench-fleet-'));
  const storeConfig = { kind: 'sqlite', path: join(folder, 'auth.db') } as const;
  const store = await openStore(storeConfig, quietLogger);
  const { token: adminToken } = await createAdminToken(store, 'bench', 'bench').finally(() =>
    store.close(),
  );
  const configPath = join(folder, 'auth.json');

  await writeAuthConfig(configPath, benchAuthConfig(storeConfig));

  const service = await forkAuthService(configPath);

  try {
    const ports = service.info['ports'] as { admin: number; public: number };
    const adminUrl = `http://127.0.0.1:${ports.admin}`;
    const publicUrl = `http://127.0.0.1:${ports.public}`;
    const app = await registerApp(adminUrl, adminToken, BENCH_APP_ID, 'EdDSA');
    const es256App = await registerApp(adminUrl, adminToken, BENCH_ES256_APP_ID, 'ES256');
    const enrollment = await call(`${adminUrl}/v1/enroll-tokens`, adminToken, 'POST', {
      uses: Math.max(1, options.agents),
      groups: [FLEET_GROUP],
    });
    const enrollToken = String(enrollment['token']);
    const agents: FleetAgent[] = [];
    const ids = Array.from({ length: options.agents }, (_, index) => fleetAgentId(index));

    for (let start = 0; start < ids.length; start += ENROLL_CONCURRENCY) {
      const batch = ids.slice(start, start + ENROLL_CONCURRENCY);
      agents.push(
        ...(await Promise.all(
          batch.map((agentId) => enrollOne(publicUrl, enrollToken, agentId, folder, options)),
        )),
      );
    }

    return {
      service,
      adminUrl,
      app,
      es256App,
      agents,
      folder,
      close: async () => {
        await stopProcess(service.child);
        await rm(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopProcess(service.child);
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

/** A central client of one of the fleet's apps (the Ed25519 one unless told), over MQTT 5. */
export function connectFleetClient(
  fleet: Fleet,
  brokerUrl: string,
  app: FleetApp = fleet.app,
): Promise<BeckonClient> {
  return connect({
    url: brokerUrl,
    appId: app.appId,
    secret: app.secret,
    authUrl: fleet.adminUrl,
    privateKey: app.privateJwk,
    mqttVersion: '5',
  });
}

/**
 * Starts `agents` in an agent host process of their own (servers/agent-host.ts), which reports
 * once every one of them holds its subscription. `label` names the host's list of config files.
 */
export async function forkAgentHost(
  fleet: Fleet,
  agents: readonly FleetAgent[],
  label: string,
  options: Pick<ForkOptions, 'profileAs' | 'execArgv'> = {},
): Promise<ForkedServer> {
  const listPath = join(fleet.folder, `agents-${label}.json`);
  await writeFile(listPath, JSON.stringify(agents.map((agent) => agent.configPath)));

  return forkServer('servers/agent-host.js', { ...options, args: [listPath] });
}
