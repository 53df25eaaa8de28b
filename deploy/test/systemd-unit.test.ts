import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployPath, hasCommand, runTool } from './helpers.js';

const UNIT_PATH = deployPath('systemd', 'beckon-agent.service');
// Debian's systemd package has it; a machine without systemd skips only these checks.
const HAS_SYSTEMD_ANALYZE = await hasCommand('systemd-analyze');

/** [section] -> key -> values (keys such as SystemCallFilter= may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;

  for (const raw of text.split('\n')) {
    const line = raw.trim();

    if (line === '' || line.startsWith('#')) {
      continue;
    }

    const header = /^\[(.+)\]$/.exec(line);

    if (header !== null) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }

    const equals = line.indexOf('=');

    if (current === undefined || equals === -1) {
      throw new Error(`not a unit file line: ${line}`);
    }

    const key = line.slice(0, equals);
    current.set(key, [...(current.get(key) ?? []), line.slice(equals + 1)]);
  }

  return sections;
}

describe('the agent systemd unit', () => {
  let unit: Map<string, Map<string, string[]>>;

  function setting(section: string, key: string): string[] | undefined {
    return unit.get(section)?.get(key);
  }

  beforeAll(async () => {
    unit = parseUnit(await readFile(UNIT_PATH, 'utf8'));
  });

  it('is a notify service that accepts notifications from the systemd-notify child', () => {
    expect(setting('Service', 'Type')).toEqual(['notify']);
    expect(setting('Service', 'NotifyAccess')).toEqual(['all']);
    expect(setting('Service', 'WatchdogSec')).toEqual(['30s']);
  });

  it('restarts always, within a start limit', () => {
    expect(setting('Service', 'Restart')).toEqual(['always']);
    expect(setting('Unit', 'StartLimitIntervalSec')).toEqual(['600']);
    expect(setting('Unit', 'StartLimitBurst')).toEqual(['10']);
  });

  it('runs the installed binary with the installed config as the beckon user', () => {
    expect(setting('Service', 'ExecStart')).toEqual([
      '/usr/local/bin/beckon-agent run --config /etc/beckon/agent.yaml',
    ]);
    expect(setting('Service', 'User')).toEqual(['beckon']);
    expect(setting('Service', 'Group')).toEqual(['beckon']);
  });

  it('signals only the agent on stop, so it can report running actions', () => {
    expect(setting('Service', 'KillMode')).toEqual(['mixed']);
    expect(setting('Service', 'KillSignal')).toEqual(['SIGTERM']);
    expect(setting('Service', 'TimeoutStopSec')).toEqual(['90s']);
  });

  it('is hardened, writing only its state folder', () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ReadWritePaths: '/var/lib/beckon-agent',
      StateDirectory: 'beckon-agent',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      RestrictAddressFamilies: 'AF_UNIX AF_INET AF_INET6',
      RestrictNamespaces: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      SystemCallArchitectures: 'native',
      LimitNOFILE: '65536',
      UMask: '0077',
    };

    for (const [key, value] of Object.entries(expected)) {
      expect(setting('Service', key), key).toEqual([value]);
    }

    expect(setting('Service', 'SystemCallFilter')).toEqual(['@system-service', '~@privileged']);
    // V8's JIT needs writable executable memory.
    expect(setting('Service', 'MemoryDenyWriteExecute')).toBeUndefined();
  });

  it('is wanted by the multi-user target', () => {
    expect(setting('Install', 'WantedBy')).toEqual(['multi-user.target']);
  });
});

describe('systemd-analyze verify', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'beckon-unit-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // verify checks that ExecStart's binary exists and is executable; the agent is not
  // installed on the test machine, so a copy of the unit runs /bin/true instead. Everything
  // else is verified exactly as shipped.
  async function verify(unitText: string): Promise<{ code: number | null; stderr: string }> {
    const path = join(dir, 'beckon-agent.service');
    const runnable = unitText.replace(
      /^ExecStart=\/usr\/local\/bin\/beckon-agent /m,
      'ExecStart=/bin/true ',
    );
    await writeFile(path, runnable);
    return runTool('systemd-analyze', ['verify', path]);
  }

  it.runIf(HAS_SYSTEMD_ANALYZE)('accepts the unit with no warning', async () => {
    const result = await verify(await readFile(UNIT_PATH, 'utf8'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it.runIf(HAS_SYSTEMD_ANALYZE)('would report a misspelt setting', async () => {
    const broken = (await readFile(UNIT_PATH, 'utf8')).replace('KillMode=', 'KilMode=');
    const result = await verify(broken);
    expect(result.stderr).toContain("Unknown key 'KilMode'");
  });
});
