import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateSigningKeyPair } from '@beckon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DirectorySnapshot } from '../src/directory/types.js';
import { nextValue } from './helpers/backends.js';
import { ensureBuilt, runCli, spawnCli } from './helpers/built-cli.js';
import { call, startTestService, type TestService } from './helpers/service.js';

/** Building shared and the service from scratch on a busy 2-core machine. */
const BUILD_TIMEOUT_MS = 120_000;

describe('beckon-auth CLI', () => {
  let test: TestService;
  let configFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    await ensureBuilt();
    test = await startTestService();
    configFile = join(test.folder, 'auth.yaml');
    writeFileSync(configFile, `store: { kind: sqlite, path: ${join(test.folder, 'auth.db')} }\n`);
    env = { BECKON_AUTH_ADMIN_URL: test.adminUrl };
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await test.close();
  });

  it('creates an admin token straight in the store, usable against the running service', async () => {
    const created = await runCli([
      'admin-token',
      'create',
      '--name',
      'ops',
      '--config',
      configFile,
      '--json',
    ]);

    expect(created.code).toBe(0);

    const { token } = JSON.parse(created.stdout) as { token: string };

    env.BECKON_AUTH_ADMIN_TOKEN = token;

    const listed = await runCli(['agents', 'list'], env);

    expect(listed).toMatchObject({ code: 0, stdout: '(none)\n' });
  });

  it('manages agents, apps, groups, grants and rules through the admin API', async () => {
    const added = await runCli(['agents', 'add', 'web-1', '--groups', 'eu,web'], env);

    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(
      /^created web-1 {2}agent {2}enabled {2}groups: eu,web\nsecret \(shown once\): \S{32}\n$/,
    );
    expect(test.service.directory.current().principals.get('web-1')?.groups).toEqual(['eu', 'web']);

    expect((await runCli(['apps', 'add', 'deployer'], env)).code).toBe(0);

    const keyFile = join(test.folder, 'deployer.jwk');

    writeFileSync(keyFile, JSON.stringify((await generateSigningKeyPair()).publicJwk));

    const pinned = await runCli(['apps', 'key', 'set', 'deployer', '--jwk', `@${keyFile}`], env);

    expect(pinned.stdout).toMatch(/^pinned key of deployer {2}app {2}enabled key-pinned/);

    const grant = await runCli(
      ['grants', 'add', '--app', 'deployer', '--groups', 'web', '--actions', 'restart', '--json'],
      env,
    );

    expect(JSON.parse(grant.stdout)).toMatchObject({
      grant: { appId: 'deployer', groups: ['web'], actions: ['restart'] },
    });

    const rule = await runCli(
      ['rules', 'add', '--subject', 'group:eu', '--pattern', 'metrics/%u/#', '--access', 'write'],
      env,
    );

    expect(rule.stdout).toMatch(/allow write {2}metrics\/%u\/# {2}for group:eu/);

    const grants = await runCli(['grants', 'list', '--app', 'deployer', '--json'], env);
    const grantId = (JSON.parse(grants.stdout) as { grants: { id: string }[] }).grants[0]?.id;

    expect(grantId).toBe((JSON.parse(grant.stdout) as { grant: { id: string } }).grant.id);
    expect((await runCli(['grants', 'list', '--app', 'nobody'], env)).stdout).not.toContain(
      'deployer',
    );

    const rules = await runCli(['rules', 'list', '--json'], env);
    const ruleId = (
      JSON.parse(rules.stdout) as { rules: { id: string; pattern: string }[] }
    ).rules.find((listed) => listed.pattern === 'metrics/%u/#')?.id;

    expect(ruleId).toBeDefined();
    expect((await runCli(['rules', 'remove', String(ruleId)], env)).stdout).toBe(
      `removed rule ${String(ruleId)}\n`,
    );
    expect((await runCli(['grants', 'remove', String(grantId)], env)).stdout).toBe(
      `removed grant ${String(grantId)}\n`,
    );
    expect(test.service.directory.current().grants).toHaveLength(0);

    const disabled = await runCli(['agents', 'disable', 'web-1'], env);

    expect(disabled.stdout).toContain('DISABLED');
    expect(test.service.directory.current().principals.get('web-1')?.enabled).toBe(false);

    const token = await runCli(
      ['enroll-tokens', 'create', '--expires-in', '2h', '--groups', 'eu'],
      env,
    );

    expect(token.stdout).toMatch(/token \(shown once\): bet_\S+/);

    const audit = await runCli(['audit', '--limit', '3', '--json'], env);

    expect((JSON.parse(audit.stdout) as { entries: unknown[] }).entries).toHaveLength(3);

    const trust = await runCli(['trust', 'show'], env);

    expect(trust.stdout).toMatch(/^issuer: beckon-test\n\S+ {2}EdDSA {2}active/);
  });

  it('exits 1 with the API message when the service refuses', async () => {
    const missing = await runCli(['agents', 'show', 'nobody'], env);

    expect(missing).toMatchObject({
      code: 1,
      stderr: 'beckon-auth: agent nobody does not exist\n',
    });

    const explain = await runCli(['explain', 'web-1', 'a/b', 'read', '--json'], env);

    expect(explain.code).toBe(0);
    expect(JSON.parse(explain.stdout)).toMatchObject({ username: 'web-1', allowed: false });

    const hostile = await runCli(['agents', 'add', 'a+b'], env);

    expect(hostile.code).toBe(1);
    expect(hostile.stderr).toContain('body is not valid: id:');
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [
      ['agents', 'add'],
      ['agents', 'frobnicate', 'x'],
      ['nonsense'],
      ['agents', 'list', '--nope'],
      ['agents', 'list', '--groups', 'x'],
      ['rules', 'add', '--subject', 'everyone', '--pattern', 'x', '--access', 'read'],
      ['rules', 'list', '--app', 'x'],
      ['grants', 'frobnicate'],
      ['grants', 'remove'],
      ['enroll-tokens', 'create', '--expires-in', 'soon'],
      ['explain', 'u', 't', 'publish'],
    ]) {
      expect((await runCli(args, env)).code, args.join(' ')).toBe(2);
    }

    const noToken = await runCli(['agents', 'list'], { BECKON_AUTH_ADMIN_URL: test.adminUrl });

    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('BECKON_AUTH_ADMIN_TOKEN');
  });

  it('reads the admin token from --token-file', async () => {
    const file = join(test.folder, 'token');

    writeFileSync(file, `${env.BECKON_AUTH_ADMIN_TOKEN ?? ''}\n`);

    const result = await runCli(['groups', 'list', '--token-file', file, '--url', test.adminUrl]);

    expect(result.stdout).toContain('eu  members: web-1');
  });

  it('imports a Mosquitto password and ACL file while the service runs', async () => {
    const passwords = join(test.folder, 'passwd');
    const acl = join(test.folder, 'acl');

    execFileSync('mosquitto_passwd', ['-b', '-c', passwords, 'old-sensor', 'kept password']);
    writeFileSync(acl, 'user old-sensor\ntopic write sensors/old\n');

    const seen = nextValue<DirectorySnapshot>(
      (deliver) => test.service.directory.onChange(deliver),
      (snapshot) => snapshot.principals.has('old-sensor'),
    );
    const result = await runCli([
      'import',
      '--passwords',
      passwords,
      '--acl',
      acl,
      '--as',
      'agents',
      '--config',
      configFile,
    ]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('created 1 agents: old-sensor');
    expect((await seen).rules.map((rule) => rule.pattern)).toContain('sensors/old');
    expect(await test.service.directory.verifySecret('old-sensor', 'kept password')).toBe(true);
  });

  it('migrates an up-to-date store without changing it', async () => {
    const result = await runCli(['migrate', '--config', configFile]);

    expect(result).toMatchObject({ code: 0, stdout: 'store is up to date\n' });
  });
});

describe('beckon-auth serve', () => {
  it(
    'starts the listeners, answers health checks, and stops cleanly on SIGTERM',
    async () => {
      await ensureBuilt();

      const folder = mkdtempSync(join(tmpdir(), 'beckon-serve-'));
      const child = spawnCli(['serve'], {
        BECKON_AUTH_SQLITE_PATH: join(folder, 'auth.db'),
        BECKON_AUTH_ADMIN_PORT: '0',
        BECKON_AUTH_PUBLIC_PORT: '0',
        BECKON_AUTH_PUBLIC_HOST: '127.0.0.1',
      });

      try {
        const ports = new Map<string, number>();

        for await (const line of createInterface({ input: child.stdout! })) {
          const event = JSON.parse(line) as { msg: string; listener?: string; port?: number };

          if (event.msg === 'listening' && event.listener !== undefined) {
            ports.set(event.listener, event.port ?? 0);
          }

          if (ports.size === 2) {
            break;
          }
        }

        expect((await call(`http://127.0.0.1:${ports.get('admin')}/readyz`)).status).toBe(200);
        expect((await call(`http://127.0.0.1:${ports.get('public')}/healthz`)).status).toBe(200);

        child.kill('SIGTERM');

        const [code] = (await once(child, 'exit')) as [number | null];

        expect(code).toBe(0);
      } finally {
        if (child.exitCode === null) {
          child.kill('SIGKILL');
        }

        rmSync(folder, { recursive: true, force: true });
      }
    },
    BUILD_TIMEOUT_MS,
  );
});
