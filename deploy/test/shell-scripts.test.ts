import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_DIR, deployPath, runTool } from './helpers.js';

const INSTALL_SH = deployPath('install.sh');
const A_TOKEN = 'abcdefghijklmnop-0123456789';

async function shellScripts(): Promise<string[]> {
  const entries = await readdir(deployPath(), { recursive: true });
  const scripts = entries
    .filter((entry) => entry.endsWith('.sh') && !entry.includes('node_modules'))
    .map((entry) => deployPath(entry));
  return [...scripts, join(REPO_DIR, '.ci', 'run')];
}

describe('every shell script', () => {
  it('passes shellcheck (installed by .ci/run from Debian)', async () => {
    const scripts = await shellScripts();
    expect(scripts.map((script) => relative(REPO_DIR, script))).toContain('deploy/install.sh');

    const result = await runTool('shellcheck', ['--severity=style', ...scripts]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('install.sh is plain POSIX sh', () => {
  it.each(['sh', 'dash'])('parses with %s -n', async (shell) => {
    const result = await runTool(shell, ['-n', INSTALL_SH]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('passes shellcheck as sh, where bashisms are errors', async () => {
    const result = await runTool('shellcheck', ['--shell=sh', '--severity=style', INSTALL_SH]);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('install.sh arguments', () => {
  it('prints its usage with --help and exits 0', async () => {
    const result = await runTool('sh', [INSTALL_SH, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('usage: install.sh --token <enrollment-token>');
    expect(result.stdout).toContain('--uninstall');
    expect(result.stdout).toContain('--root DIR');
  });

  it.each([
    [['--bogus'], 'unknown option: --bogus'],
    [['--token'], '--token needs a value'],
    [['--token', '--url', 'https://a.example'], '--token needs a value, got the option --url'],
    [['--token', 'short', '--url', 'https://a.example'], '--token must be 16 to 256 characters'],
    [['--token', 'has spaces in it, sixteen+', '--url', 'https://a.example'], 'characters'],
    [['--token', A_TOKEN], '--url is required'],
    [['--token', A_TOKEN, '--url', 'http://a.example'], 'http:// only with --allow-plaintext'],
    [['--token', A_TOKEN, '--url', 'ftp://a.example'], '--url must be a https:// URL'],
    [['--token', A_TOKEN, '--url', 'https://a.example/$(id)'], 'characters a URL never has'],
    [['--token', A_TOKEN, '--url', 'https://a.example', '--agent-id', 'a/b'], '--agent-id'],
    [['--url', 'https://a.example', '--broker-url', 'mqtt://b.example'], '--allow-plaintext'],
    [['--url', 'https://a.example', '--root', 'relative/dir'], '--root must be an absolute path'],
    [['--url', 'https://a.example', '--root', '/no/such/dir'], 'is not a directory'],
    [['--purge'], '--purge only goes with --uninstall'],
  ])('refuses %j with exit 2: %s', async (args, message) => {
    const result = await runTool('sh', [INSTALL_SH, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });

  it('never echoes the token in an error', async () => {
    const secretish = 'tok3n-that-must-not-leak!';
    const result = await runTool('sh', [INSTALL_SH, '--token', secretish, '--url', 'https://a.b']);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(secretish);
  });
});

describe('install.sh into a throwaway root with an unreachable auth-service', () => {
  let root: string;
  let closedPort: number;
  let holder: Server;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'beckon-root-'));
    // A port that was just bound and released, so nothing listens on it.
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    closedPort = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('fails with a clear message and leaves the root untouched', async () => {
    const url = `http://127.0.0.1:${closedPort}`;
    const args = ['--root', root, '--url', url, '--allow-plaintext', '--token', A_TOKEN];
    const result = await runTool('sh', [INSTALL_SH, ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach the auth-service at ${url}`);
    expect(result.stderr).not.toContain(A_TOKEN);
    expect(await readdir(root)).toEqual([]);
  });
});
