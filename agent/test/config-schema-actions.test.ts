import { describe, expect, it } from 'vitest';
import { validateConfig } from '../src/index.js';

const broker = { url: 'mqtt://localhost:1883' };

function errorsFor(actions: Record<string, unknown>): readonly string[] {
  const result = validateConfig({ broker, actions }, 'agent.yaml');

  return result.ok ? [] : result.errors;
}

describe('stricter checks on actions', () => {
  it('refuses an enum value the runner would always refuse at its position', () => {
    expect(
      errorsFor({
        mode: {
          argv: ['/usr/bin/tool', { arg: 'mode' }],
          args: { mode: { type: 'string', enum: ['fast', '--force'] } },
        },
        line: {
          argv: ['/usr/bin/tool', '--', { arg: 'text' }],
          args: { text: { type: 'string', enum: ['-ok after dashes', 'two\nlines'] } },
        },
      }),
    ).toEqual([
      'agent.yaml: actions.mode.argv.1: enum value "--force" must not start with "-": it would be read as an option',
      'agent.yaml: actions.line.argv.2: enum value "two\\nlines" must not contain control characters (only tab is allowed)',
    ]);
  });

  it('accepts user and group names and numeric ids, and refuses anything else', () => {
    expect(
      errorsFor({
        a: { argv: ['/bin/true'], user: 'www-data', group: 'adm' },
        b: { argv: ['/bin/true'], user: '65534' },
        c: { argv: ['/bin/true'], user: 'MACHINE$' },
      }),
    ).toEqual([]);
    expect(errorsFor({ a: { argv: ['/bin/true'], user: 'root; id' } })).toEqual([
      'agent.yaml: actions.a.user: must be a user or group name, or a numeric id',
    ]);
  });

  it('refuses more arguments than a catalogue entry may carry', () => {
    const args = Object.fromEntries(
      Array.from({ length: 33 }, (_, index) => [`a${index}`, { type: 'boolean' }]),
    );

    expect(errorsFor({ many: { argv: ['/bin/true'], args } })).toEqual([
      'agent.yaml: actions.many.args: declares more than 32 arguments',
    ]);
  });

  it('refuses more actions than the published catalogue can hold beside the built-ins', () => {
    const actions = Object.fromEntries(
      Array.from({ length: 255 }, (_, index) => [`a${index}`, { argv: ['/bin/true'] }]),
    );

    expect(errorsFor(actions)).toEqual(['agent.yaml: actions: declares more than 254 actions']);
  });
});
