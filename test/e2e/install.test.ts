import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BeckonClient } from '@beckon/client';
import { freePort, startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp } from '../harness/app.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';

// The one-line install, end to end: the auth-service serves install.sh (with its own address
// filled in) and the self-contained agent executable; the script installs into a throwaway
// root, enrolls with a one-time token, and the installed agent answers a ping through Mosquitto.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_BUNDLE = join(ROOT, 'deploy/dist/bundle/build.js');
const INSTALL_TIMEOUT_MS = 120_000;
const AGENT_RUN_OPTIONS = { reject: false, all: true, forceKillAfterDelay: false } as const;

let folder: string;
let bundle: string;
let target: string;
let auth: RunningAuth;
let mosquitto: RunningMosquitto;
let agent: ResultPromise<typeof AGENT_RUN_OPTIONS> | undefined;
let client: BeckonClient | undefined;

function oneLineInstall(
  args: string,
): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
  // Exactly the documented shape: curl the script from the auth-service and pipe it to sh.
  return execa('sh', ['-c', `curl -fsSL ${auth.publicUrl}/install.sh | sh -s -- ${args}`], {
    reject: false,
    timeout: INSTALL_TIMEOUT_MS,
  });
}

const ONLINE_TIMEOUT_MS = 30_000;
const POLL_MS = 200;

async function waitUntilOnline(app: BeckonClient, agentId: string): Promise<void> {
  const deadline = Date.now() + ONLINE_TIMEOUT_MS;

  while ((await app.status(agentId))?.state !== 'online') {
    if (Date.now() > deadline) {
      throw new Error(`${agentId} did not come online`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'beckon-install-'));
  bundle = join(folder, 'bundle');
  target = join(folder, 'root');
  await mkdir(target);
  await execa('node', [
    BUILD_BUNDLE,
    '--entry',
    join(ROOT, 'agent/dist/cli.js'),
    '--out',
    bundle,
    '--unit',
    join(ROOT, 'deploy/systemd/beckon-agent.service'),
    '--install-script',
    join(ROOT, 'deploy/install.sh'),
  ]);
  const publicPort = await freePort();
  auth = await startAuth({
    config: {
      staticDir: bundle,
      publicUrl: `http://127.0.0.1:${publicPort}`,
      listeners: {
        admin: { host: '127.0.0.1', port: 0 },
        public: { host: '127.0.0.1', port: publicPort },
        broker: { host: '127.0.0.1', port: 0 },
      },
    },
  });
  mosquitto = await startMosquitto();
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await client?.close();
  agent?.kill('SIGKILL');
  await agent;
  await mosquitto.dispose();
  await auth.close();
  await rm(folder, { recursive: true, force: true });
});

describe('the one-line install', () => {
  it(
    'installs, enrolls, and leaves an agent that answers a ping',
    async () => {
      const token = await auth.admin.enrollToken('site-01');

      const install = await oneLineInstall(
        `--token ${token} --root ${target} --allow-plaintext --broker-url ${mosquitto.url}`,
      );

      expect(install.exitCode, install.stderr).toBe(0);
      expect(install.stdout).toContain('site-01');
      expect(install.stdout).not.toContain(token);

      agent = execa(
        join(target, 'usr/local/bin/beckon-agent'),
        ['run', '--config', join(target, 'etc/beckon/agent.yaml')],
        AGENT_RUN_OPTIONS,
      );
      const app = await addApp(auth, 'installer-check', [{ agents: ['site-01'] }]);
      client = await connectApp(auth, mosquitto.url, app, { mqttVersion: '5' });
      // A first-time agent has no session yet: a command sent before it subscribes is lost.
      await waitUntilOnline(client, 'site-01');

      const result = await client
        .send('site-01', 'ping', {}, { timeout: 30_000 })
        .catch(async (error: unknown) => {
          // Show what the installed agent said, so a failure here can be read.
          agent?.kill('SIGTERM');
          const output = (await agent)?.all ?? '';
          agent = undefined;
          throw new Error(`${String(error)}\nagent output:\n${output}`);
        });

      expect(result.outcome).toBe('succeeded');
    },
    INSTALL_TIMEOUT_MS,
  );

  it(
    'runs again without a token as a repair, keeping the enrollment',
    async () => {
      const again = await oneLineInstall(`--root ${target} --allow-plaintext`);

      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/kept|unchanged/);
    },
    INSTALL_TIMEOUT_MS,
  );

  it(
    'uninstalls with --purge and leaves nothing behind',
    async () => {
      agent?.kill('SIGTERM');
      expect((await agent)?.exitCode).toBe(0);
      agent = undefined;

      const removed = await oneLineInstall(`--uninstall --purge --root ${target}`);

      expect(removed.exitCode, removed.stderr).toBe(0);
      await expect(access(join(target, 'usr/local/bin/beckon-agent'))).rejects.toThrow();
      await expect(access(join(target, 'etc/beckon/credentials.json'))).rejects.toThrow();
    },
    INSTALL_TIMEOUT_MS,
  );
});
