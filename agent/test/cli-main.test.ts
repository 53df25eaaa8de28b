import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main, type CliEnv } from '../src/cli/main.js';
import { agentVersion } from '../src/version.js';
import { AGENT_CLI, BUILD_TIMEOUT_MS, ensureAgentBuilt } from './support/built-agent.js';
import { removeDir, tempDir } from './support/harness.js';

const run = promisify(execFile);

let dir: string;

beforeAll(async () => {
  dir = await tempDir('cli');
});

afterAll(async () => {
  await removeDir(dir);
});

async function cli(argv: string[], env: CliEnv = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(
    argv,
    { stdout: (line) => stdout.push(line), stderr: (line) => stderr.push(line), env },
    undefined,
  );

  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

const CONFIG = `# an operator's config
broker:
  url: mqtts://broker.example.com:8883
actions:
  restart-web:
    description: Restart the web service
    argv: [/usr/bin/systemctl, restart, { arg: unit }]
    args:
      unit: { type: string, enum: [nginx.service, app.service] }
`;

describe('beckon-agent', () => {
  it('prints its version', async () => {
    expect(await cli(['--version'])).toEqual({ code: EXIT_OK, stdout: agentVersion(), stderr: '' });
  });

  it('prints help', async () => {
    const { code, stdout } = await cli(['--help']);

    expect(code).toBe(EXIT_OK);
    expect(stdout).toContain('check-config');
  });

  it.each([
    [[], 'a command is required'],
    [['launch'], 'unknown command "launch"'],
    [['check-config', '--cofnig', 'x'], "Unknown option '--cofnig'"],
    [['check-config', 'extra'], 'Unexpected argument'],
  ])('exits 2 with the reason for bad usage: %j', async (argv, reason) => {
    const { code, stderr } = await cli(argv);

    expect(code).toBe(EXIT_USAGE);
    expect(stderr).toContain(reason);
  });

  it('refuses to run without an action runner bound into this build', async () => {
    const { code, stderr } = await cli(['run', '--config', join(dir, 'none.yaml')]);

    expect(code).toBe(EXIT_FAILURE);
    expect(stderr).toContain('no action runner');
  });
});

describe('beckon-agent check-config', () => {
  it('lists the effective actions of a valid config', async () => {
    const path = join(dir, 'agent.yaml');
    await writeFile(path, CONFIG);

    const { code, stdout } = await cli(['check-config', '--config', path]);

    expect(code).toBe(EXIT_OK);
    const lines = stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `${path}: valid`,
      'broker mqtts://broker.example.com:8883 (MQTT 5), signatures required',
      '1 action(s) configured; built in: ping, describe',
    ]);
    expect(lines).toContain('  argv:        /usr/bin/systemctl restart {unit}');
    expect(lines).toContain(
      '  args:        unit: string, required, one of "nginx.service", "app.service"',
    );
  });

  it('reads the config path from BECKON_AGENT_CONFIG and answers in JSON', async () => {
    const path = join(dir, 'env.yaml');
    await writeFile(path, CONFIG);

    const { code, stdout } = await cli(['check-config', '--json'], { BECKON_AGENT_CONFIG: path });

    expect(code).toBe(EXIT_OK);
    expect(JSON.parse(stdout)).toMatchObject({
      ok: true,
      config: path,
      builtIns: ['ping', 'describe'],
      actions: [{ name: 'restart-web', program: '/usr/bin/systemctl' }],
    });
  });

  it('exits 1 naming the file, the key and the problem', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, CONFIG.replace('mqtts://', 'http://'));

    const { code, stderr } = await cli(['check-config', '--config', path]);

    expect(code).toBe(EXIT_FAILURE);
    expect(stderr).toBe(`${path}: broker.url: must be mqtt://host[:port] or mqtts://host[:port]`);
  });
});

describe('the built bin', () => {
  it(
    'runs as an executable node script',
    async () => {
      await ensureAgentBuilt();

      const { stdout } = await run(process.execPath, [AGENT_CLI, '--version']);

      expect(stdout.trim()).toBe(agentVersion());
      expect((await readFile(AGENT_CLI, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    },
    BUILD_TIMEOUT_MS,
  );

  it('exits 2 on bad usage', async () => {
    await ensureAgentBuilt();

    const failure = await run(process.execPath, [AGENT_CLI, 'nonsense']).catch(
      (error: unknown) => error as { code: number; stderr: string },
    );

    expect(failure).toMatchObject({ code: EXIT_USAGE });
  });
});
