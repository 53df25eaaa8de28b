import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublicJwk } from '@beckon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ID, APP_SECRET, startWorld, type World } from './helpers/setup.js';
import { buildClient, runCli, spawnCli } from './helpers/run-cli.js';
import { startStandIn, type StandInAgent } from './helpers/stand-in-agent.js';

const BUILD_TIMEOUT_MS = 120_000;

let world: World;
let agents: StandInAgent[];
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  const built = buildClient();
  world = await startWorld({ groups: { web: ['cli-01', 'cli-02'] } });
  agents = await Promise.all(
    ['cli-01', 'cli-02'].map((agentId) =>
      startStandIn({
        url: world.broker.url,
        agentId,
        groups: ['all'],
        trustRoot: world.trust.trustRoot,
      }),
    ),
  );
  dir = await mkdtemp(join(tmpdir(), 'beckon-cli-'));
  await writeFile(join(dir, 'secret'), `${APP_SECRET}\n`);
  const keygen = await runCliAfter(built, ['keygen', '--out', join(dir, 'app.jwk')]);
  expect(keygen.code).toBe(0);
  env = {
    BECKON_URL: world.broker.url,
    BECKON_APP_ID: APP_ID,
    BECKON_APP_SECRET_FILE: join(dir, 'secret'),
    BECKON_APP_KEY_FILE: join(dir, 'app.jwk'),
    BECKON_AUTH_URL: world.auth.url,
  };
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await world.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function runCliAfter(built: Promise<void>, args: string[]) {
  await built;
  return runCli(args, {});
}

function agent(id: string): StandInAgent {
  return agents.find((candidate) => candidate.agentId === id)!;
}

describe('beckon CLI', () => {
  it('documents its commands and exit codes in --help, and prints --version', async () => {
    const [help, version] = await Promise.all([runCli(['--help'], {}), runCli(['--version'], {})]);

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('beckon send <agent> <action>');
    expect(help.stdout).toMatch(/^ {2}3 {4}the agent rejected the command$/m);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('writes a private key with mode 0600 and prints only the public key', async () => {
    const path = join(dir, 'other.jwk');

    const first = await runCli(['keygen', '--out', path, '--alg', 'ES256'], {});
    const again = await runCli(['keygen', '--out', path], {});

    expect(first.code).toBe(0);
    expect(PublicJwk.parse(JSON.parse(first.stdout))).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(first.stdout).not.toContain('"d"');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toHaveProperty('d');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
  });

  it('sends with arguments typed by the agent catalogue and prints the output', async () => {
    agent('cli-01').handler = ({ command }) => ({
      stdout: `restarting ${String(command.args['unit'])}\n`,
    });

    const run = await runCli(
      [
        'send',
        'cli-01',
        'restart-service',
        '--arg',
        'unit=nginx',
        '--arg',
        'retries=2',
        '--arg',
        'force=true',
      ],
      env,
    );

    expect(run.code).toBe(0);
    expect(run.stdout).toBe('restarting nginx\n');
    expect(run.stderr).toContain('cli-01 restart-service: succeeded');
    expect(agent('cli-01').received.at(-1)!.args).toEqual({
      unit: 'nginx',
      retries: 2,
      force: true,
    });
  });

  it('prints one JSON document with --json', async () => {
    agent('cli-01').handler = () => ({ stdout: 'pong' });

    const run = await runCli(['send', 'cli-01', 'ping', '--json'], env);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      result: { agentId: 'cli-01', outcome: 'succeeded', output: { stdout: 'pong' } },
    });
  });

  it.each([
    [
      'failed',
      { outcome: 'failed', exitCode: 2, error: { code: 'non_zero_exit', message: 'exit 2' } },
      1,
    ],
    [
      'rejected',
      { outcome: 'rejected', exitCode: null, error: { code: 'invalid_args', message: 'no' } },
      3,
    ],
  ] as const)('exits with the code for a %s command', async (_name, answer, code) => {
    agent('cli-01').handler = () => answer;

    const run = await runCli(['send', 'cli-01', 'ping', '--json'], env);

    expect(run.code).toBe(code);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      result: { outcome: answer.outcome },
    });
  });

  it('streams output as it arrives with --progress', async () => {
    agent('cli-01').handler = async ({ progress }) => {
      await progress('step 1\n');
      await progress('step 2\n');
      return { stdout: 'step 1\nstep 2\n' };
    };

    const run = await runCli(['send', 'cli-01', 'ping', '--progress'], env);

    expect(run.code).toBe(0);
    expect(run.stdout).toBe('step 1\nstep 2\n');
    expect(agent('cli-01').received.at(-1)!.progress).toBe(true);
  });

  it('exits 4 when no result arrives in time', async () => {
    agent('cli-01').handler = () => 'no-answer';

    const run = await runCli(['send', 'cli-01', 'ping', '--timeout', '300ms'], env);

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('no result from agent cli-01');
  });

  it('refuses arguments that do not fit the catalogue, naming them; nothing is sent', async () => {
    const before = agent('cli-01').received.length;

    const wrongType = await runCli(
      ['send', 'cli-01', 'restart-service', '--arg', 'unit=nginx', '--arg', 'retries=many'],
      env,
    );
    const unknown = await runCli(['send', 'cli-01', 'restart-service', '--arg', 'colour=red'], env);
    const notOffered = await runCli(['send', 'cli-01', 'reboot', '--arg', 'now=true'], env);
    const noStatus = await runCli(['send', 'ghost-01', 'ping', '--arg', 'x=1'], env);

    expect(wrongType).toMatchObject({ code: 2 });
    expect(wrongType.stderr).toContain('--arg retries must be an integer');
    expect(unknown.stderr).toContain('--arg colour is not an argument of restart-service');
    expect(notOffered.code).toBe(2);
    expect(noStatus.code).toBe(2);
    expect(noStatus.stderr).toContain('ghost-01 has published no catalogue');
    expect(agent('cli-01').received.length).toBe(before);
  });

  it('refuses flags a command does not take, extra words and unknown commands', async () => {
    const [flag, extra, unknown] = await Promise.all([
      runCli(['agents', '--group', 'web'], env),
      runCli(['send', 'cli-01', 'ping', 'now'], env),
      runCli(['reboot-all'], env),
    ]);

    expect(flag).toMatchObject({ code: 2 });
    expect(flag.stderr).toContain('--group is not a flag of beckon agents');
    expect(extra).toMatchObject({ code: 2 });
    expect(extra.stderr).toContain('"now" is one word too many');
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toContain('"reboot-all" is not a beckon command');
  });

  it('names the environment variable that is missing or wrong', async () => {
    const [missing, wrong] = await Promise.all([
      runCli(['send', 'cli-01', 'ping'], { ...env, BECKON_APP_ID: '' }),
      runCli(['send', 'cli-01', 'ping'], { ...env, BECKON_MQTT_VERSION: '4' }),
    ]);

    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain('BECKON_APP_ID is not set');
    expect(wrong.stderr).toContain('BECKON_MQTT_VERSION must be 3.1.1 or 5');
  });

  it('exits 5 when no broker answers within --connect-timeout', async () => {
    const run = await runCli(
      ['send', 'cli-01', 'ping', '--url', 'mqtt://127.0.0.1:1', '--connect-timeout', '500ms'],
      env,
    );

    expect(run.code).toBe(5);
    expect(run.stderr).toContain('no broker session at mqtt://127.0.0.1:1');
  });

  it('exits 5 when the auth-service will not issue a credential', async () => {
    world.auth.failWith(503);

    try {
      const run = await runCli(['send', 'cli-01', 'ping'], env);

      expect(run.code).toBe(5);
      expect(run.stderr).toContain('credential request');
    } finally {
      world.auth.failWith(undefined);
    }
  });

  it('fans out to a group with progress on stderr', async () => {
    for (const each of agents) {
      each.handler = () => ({ stdout: each.agentId });
    }

    const run = await runCli(
      [
        'send',
        '--group',
        'web',
        'restart-service',
        '--arg',
        'retries=1',
        '--arg',
        'unit=nginx',
        '--concurrency',
        '1',
      ],
      env,
    );

    expect(run.code).toBe(0);
    expect(agent('cli-02').received.at(-1)!.args).toEqual({ unit: 'nginx', retries: 1 });
    expect(run.stderr).toContain('[1/2] cli-01 succeeded');
    expect(run.stderr).toContain('[2/2] cli-02 succeeded');
    expect(run.stdout).toContain('2 succeeded, 0 failed, 0 not sent');
  });

  it('lists online agents and what they offer', async () => {
    const [human, json] = await Promise.all([
      runCli(['agents'], { ...env, BECKON_MQTT_VERSION: '3.1.1' }),
      runCli(['agents', '--json'], env),
    ]);

    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^cli-01\s+online\s+.*ping, restart-service$/m);
    const listed = JSON.parse(json.stdout) as { agentId: string; state: string }[];
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ agentId: 'cli-01', state: 'online' }),
        expect.objectContaining({ agentId: 'cli-02', state: 'online' }),
      ]),
    );
  });

  it('watches presence and results until interrupted', async () => {
    const child = spawnCli(['watch', '--json'], env);
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });

    try {
      await expect.poll(() => stdout, { timeout: 10_000 }).toContain('"agentId":"cli-02"');
      agent('cli-02').handler = () => ({ stdout: 'seen by watch' });
      await runCli(['send', 'cli-02', 'ping'], env);
      await expect.poll(() => stdout, { timeout: 10_000 }).toContain('seen by watch');
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    }

    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string });
    expect(lines.map((line) => line.kind)).toEqual(expect.arrayContaining(['presence', 'result']));
  });
});
