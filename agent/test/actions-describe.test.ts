import { describe, expect, it } from 'vitest';
import {
  checkConfigJson,
  checkConfigReport,
  describeActions,
  validateConfig,
  type AgentConfig,
} from '../src/index.js';

function load(actions: Record<string, unknown>): AgentConfig {
  const result = validateConfig(
    { broker: { url: 'mqtt://localhost:1883' }, limits: { maxConcurrent: 2 }, actions },
    'test.yaml',
  );

  if (!result.ok) {
    throw new Error(result.errors.join('\n'));
  }

  return result.config;
}

const config = load({
  restart: {
    description: 'Restart a unit',
    argv: ['/usr/bin/systemctl', 'restart', { arg: 'unit' }],
    args: { unit: { type: 'string', enum: ['app.service'] } },
    timeoutSeconds: 1.5,
    maxConcurrent: 1,
  },
  backup: {
    argv: [
      '/usr/local/bin/backup',
      { arg: 'full', flag: '--full' },
      '--keep',
      { arg: 'keep' },
      '--label',
      { arg: 'label' },
      'two words',
    ],
    args: {
      full: { type: 'boolean', required: false },
      keep: { type: 'integer', min: 1, max: 30 },
      label: { type: 'string', required: false, pattern: '[a-z]+', maxLength: 20, secret: true },
    },
    env: { TOKEN: 'never printed', HOME: '/root' },
    user: 'backup',
    maxOutputBytes: 1_000,
  },
});

describe('describeActions', () => {
  it('lists the built-ins, then each configured action by name, without how it runs', () => {
    expect(describeActions(config)).toEqual([
      { name: 'ping', description: expect.any(String) as string, args: {}, builtIn: true },
      { name: 'describe', description: expect.any(String) as string, args: {}, builtIn: true },
      {
        name: 'backup',
        description: '',
        args: config.actions['backup']?.args,
        timeoutMs: 60_000,
      },
      {
        name: 'restart',
        description: 'Restart a unit',
        args: { unit: { type: 'string', enum: ['app.service'] } },
        timeoutMs: 1_500,
      },
    ]);
  });
});

describe('checkConfigReport', () => {
  it('prints every action with its program, argv template, arguments and limits', () => {
    expect(checkConfigReport(config)).toBe(
      [
        '2 action(s) configured; built in: ping, describe',
        'limits: 2 running at once, 64 queued, kill grace 5 s, shutdown grace 20 s',
        '',
        'backup',
        '  program:     /usr/local/bin/backup',
        '  argv:        /usr/local/bin/backup [--full] --keep {keep} --label [{label}] "two words"',
        '  args:        full: boolean, optional, adds --full when true',
        '               keep: integer, required, from 1 to 30',
        '               label: string, optional, matching ^(?:[a-z]+)$, at most 20 characters, secret (never logged)',
        '  timeout:     60 s',
        '  output:      1000 bytes per stream',
        '  run as:      user backup, its primary group',
        '  cwd:         /',
        '  env:         HOME, TOKEN, PATH=/usr/sbin:/usr/bin:/sbin:/bin (default)',
        '  concurrency: up to the global limit (2)',
        '',
        'restart - Restart a unit',
        '  program:     /usr/bin/systemctl',
        '  argv:        /usr/bin/systemctl restart {unit}',
        '  args:        unit: string, required, one of "app.service"',
        '  timeout:     1.5 s',
        '  output:      64 KiB per stream',
        "  run as:      the agent's own user",
        '  cwd:         /',
        '  env:         PATH=/usr/sbin:/usr/bin:/sbin:/bin (default)',
        '  concurrency: at most 1 at a time (global limit 2)',
        '',
      ].join('\n'),
    );
  });

  it('never prints environment values, which may be secrets', () => {
    expect(checkConfigReport(config)).not.toContain('never printed');
    expect(JSON.stringify(checkConfigJson(config))).not.toContain('never printed');
  });

  it('has a JSON form with the same facts', () => {
    const report = checkConfigJson(config);

    expect(report.builtIns).toEqual(['ping', 'describe']);
    expect(report.actions.map((action) => action.name)).toEqual(['backup', 'restart']);
    expect(report.actions[0]).toMatchObject({
      program: '/usr/local/bin/backup',
      argv: [
        '/usr/local/bin/backup',
        '[--full]',
        '--keep',
        '{keep}',
        '--label',
        '[{label}]',
        '"two words"',
      ],
      args: { full: { type: 'boolean', required: false, flag: '--full' } },
      env: ['HOME', 'TOKEN'],
      user: 'backup',
      group: null,
      maxConcurrent: null,
    });
  });
});
