import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { deployPath, runTool, type ToolResult } from './helpers.js';

// install.sh against a local stand-in for the auth-service's public listener (healthz, the
// agent files) serving a stand-in agent: a small sh script that answers --version, enroll
// and check-config the way beckon-agent's CLI does, and logs each call. The real agent and
// auth-service are being written in parallel; the end-to-end run with both (ending in a
// ping) belongs in test/e2e once they exist. What this pins is install.sh's own behaviour:
// checksums, permissions, idempotency, enrolment only when needed, uninstall.

const INSTALL_SH = deployPath('install.sh');
const UNIT_FILE = deployPath('systemd', 'beckon-agent.service');
const GOOD_TOKEN = 'enroll-token-0123456789abcdef';
const ARCH = process.arch === 'arm64' ? 'arm64' : 'x64';
const BUNDLE = `beckon-agent-linux-${ARCH}`;

function standInAgent(version: string): string {
  return `#!/bin/sh
# Stand-in for beckon-agent ${version} in install.sh's tests.
set -eu
printf '%s umask=%s\\n' "$*" "$(umask)" >>"$BECKON_STANDIN_LOG"
case \${1-} in
  --version) echo "${version}" ;;
  check-config) [ "$2" = --config ] && [ -f "$3" ] ;;
  enroll)
    shift
    id=srv-default
    while [ $# -gt 0 ]; do
      case $1 in
        --token) token=$2 ;;
        --credentials) credentials=$2 ;;
        --agent-id) id=$2 ;;
        --url | --config) ;;
        *) echo "unknown flag $1" >&2; exit 64 ;;
      esac
      shift 2
    done
    if [ "$token" != "${GOOD_TOKEN}" ]; then
      echo "enrollment refused: invalid or used token" >&2
      exit 1
    fi
    printf '{"agentId":"%s","username":"%s","password":"secret-%s"}\\n' "$id" "$id" "$id" \\
      >"$credentials"
    ;;
  *) exit 64 ;;
esac
`;
}

interface ServedFiles {
  agent: string;
  checksum: string;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function serve(files: ServedFiles, unit: string): Server {
  return createServer((request, response) => {
    const bodies: Record<string, string> = {
      '/healthz': 'ok',
      [`/agent/${BUNDLE}`]: files.agent,
      [`/agent/${BUNDLE}.sha256`]: files.checksum,
      '/agent/beckon-agent.service': unit,
    };
    const body = bodies[request.url ?? ''];
    response.writeHead(body === undefined ? 404 : 200).end(body ?? 'not found');
  });
}

describe('install.sh against a stand-in auth-service, into a throwaway root', () => {
  let server: Server;
  let url: string;
  let root: string;
  let logDir: string;
  let log: string;
  const files: ServedFiles = { agent: '', checksum: '' };

  function offer(version: string): void {
    files.agent = standInAgent(version);
    files.checksum = `${sha256(files.agent)}  ${BUNDLE}\n`;
  }

  function install(...args: string[]): Promise<ToolResult> {
    const base = ['--root', root, '--url', url, '--allow-plaintext'];
    return runTool('sh', [INSTALL_SH, ...base, ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', BECKON_STANDIN_LOG: log },
    });
  }

  async function calls(): Promise<string[]> {
    const text = await readFile(log, 'utf8').catch(() => '');
    return text.split('\n').filter((line) => line !== '');
  }

  async function mode(path: string): Promise<number> {
    return (await stat(join(root, path))).mode & 0o777;
  }

  beforeAll(async () => {
    server = serve(files, await readFile(UNIT_FILE, 'utf8'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : '';
    logDir = await mkdtemp(join(tmpdir(), 'beckon-standin-'));
    log = join(logDir, 'calls.log');
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(logDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'beckon-root-'));
    await writeFile(log, '');
    offer('beckon-agent 1.0.0');
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('installs, enrolls and writes config, credentials and unit with safe modes', async () => {
    const result = await install('--token', GOOD_TOKEN, '--agent-id', 'srv-1');

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('beckon-install: done');
    expect(result.stdout).toMatch(/agent +\S+beckon-agent \(beckon-agent 1\.0\.0, installed\)/);
    expect(result.stdout).toContain('(enrolled as srv-1)');
    expect(result.stdout).toContain('not started (--root)');
    expect(result.stdout).not.toContain(GOOD_TOKEN);

    expect(await mode('usr/local/bin/beckon-agent')).toBe(0o755);
    expect(await mode('etc/beckon')).toBe(0o750);
    expect(await mode('etc/beckon/agent.yaml')).toBe(0o640);
    expect(await mode('etc/beckon/credentials.json')).toBe(0o600);
    expect(await mode('var/lib/beckon-agent')).toBe(0o750);

    const config = parseYaml(await readFile(join(root, 'etc/beckon/agent.yaml'), 'utf8')) as {
      broker: { url: string };
      credentialsFile: string;
      stateDir: string;
      security: { requireSignatures: boolean };
      actions: Record<string, unknown>;
    };
    expect(config).toEqual({
      broker: { url: 'mqtts://127.0.0.1:8883' },
      credentialsFile: join(root, 'etc/beckon/credentials.json'),
      stateDir: join(root, 'var/lib/beckon-agent'),
      security: { requireSignatures: true },
      actions: {},
    });

    const credentials = await readFile(join(root, 'etc/beckon/credentials.json'), 'utf8');
    expect(JSON.parse(credentials)).toMatchObject({ agentId: 'srv-1' });

    const unit = await readFile(join(root, 'etc/systemd/system/beckon-agent.service'), 'utf8');
    expect(unit).toContain(
      `ExecStart=${root}/usr/local/bin/beckon-agent run --config ${root}/etc/beckon/agent.yaml`,
    );
    expect(unit).toContain(`ReadWritePaths=${root}/var/lib/beckon-agent`);

    // Enrolment ran with a private umask, so the credentials were never readable by others.
    const enrollCall = (await calls()).find((line) => line.startsWith('enroll '));
    expect(enrollCall).toMatch(/--agent-id srv-1 umask=0077$/);
  });

  it('runs again without a token, keeping config and credentials and the same binary', async () => {
    await install('--token', GOOD_TOKEN);
    const configBefore = await readFile(join(root, 'etc/beckon/agent.yaml'), 'utf8');
    const credentialsBefore = await readFile(join(root, 'etc/beckon/credentials.json'), 'utf8');
    await writeFile(log, '');

    const again = await install();

    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('(beckon-agent 1.0.0, unchanged)');
    expect(again.stdout).toContain('(kept; edit it');
    expect(again.stdout).toContain('(kept; --force-enroll to enroll again)');
    expect(await readFile(join(root, 'etc/beckon/agent.yaml'), 'utf8')).toBe(configBefore);
    expect(await readFile(join(root, 'etc/beckon/credentials.json'), 'utf8')).toBe(
      credentialsBefore,
    );
    expect((await calls()).some((line) => line.startsWith('enroll '))).toBe(false);
  });

  it('upgrades the binary when the auth-service offers a new one', async () => {
    await install('--token', GOOD_TOKEN);
    offer('beckon-agent 1.1.0');

    const upgrade = await install();

    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain('(upgraded beckon-agent 1.0.0 -> beckon-agent 1.1.0)');
    const installed = await readFile(join(root, 'usr/local/bin/beckon-agent'), 'utf8');
    expect(installed).toBe(files.agent);
  });

  it('refuses a download whose checksum does not match and keeps the installed agent', async () => {
    await install('--token', GOOD_TOKEN);
    offer('beckon-agent 6.6.6');
    files.checksum = `${sha256('something else')}  ${BUNDLE}\n`;

    const result = await install();

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('checksum mismatch');
    expect(result.stderr).toContain('nothing was installed');
    const installed = await readFile(join(root, 'usr/local/bin/beckon-agent'), 'utf8');
    expect(installed).toContain('beckon-agent 1.0.0');
  });

  it('refuses a checksum file that holds no checksum', async () => {
    files.checksum = '<html>maintenance</html>\n';

    const result = await install('--token', GOOD_TOKEN);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('does not hold a SHA-256 checksum');
  });

  it('asks for a token when the agent is not enrolled yet', async () => {
    const result = await install();

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not enrolled yet: pass --token');
  });

  it('keeps the old credentials when --force-enroll fails', async () => {
    await install('--token', GOOD_TOKEN, '--agent-id', 'srv-1');
    const before = await readFile(join(root, 'etc/beckon/credentials.json'), 'utf8');

    const result = await install('--force-enroll', '--token', 'a-used-up-token-0123456789');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('enrollment refused');
    expect(result.stderr).toContain('enrolment failed');
    expect(result.stderr).not.toContain('a-used-up-token-0123456789');
    expect(await readFile(join(root, 'etc/beckon/credentials.json'), 'utf8')).toBe(before);
  });

  it('uninstalls keeping config and state, and --purge removes them', async () => {
    await install('--token', GOOD_TOKEN);

    const removed = await runTool('sh', [INSTALL_SH, '--root', root, '--uninstall']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('beckon-install: uninstalled');
    await expect(stat(join(root, 'usr/local/bin/beckon-agent'))).rejects.toThrow();
    await expect(stat(join(root, 'etc/systemd/system/beckon-agent.service'))).rejects.toThrow();
    expect(await mode('etc/beckon/credentials.json')).toBe(0o600);

    const purged = await runTool('sh', [INSTALL_SH, '--root', root, '--uninstall', '--purge']);
    expect(purged.code).toBe(0);
    await expect(stat(join(root, 'etc/beckon'))).rejects.toThrow();
    await expect(stat(join(root, 'var/lib/beckon-agent'))).rejects.toThrow();
  });
});
