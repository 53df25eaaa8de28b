import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionRunner, resolveAccounts } from '../src/index.js';
import { action, captureLogger, makeTempDir, request } from './fixtures/actions.js';

const isRoot = process.getuid?.() === 0;

let dir: { path: string; remove: () => Promise<void> };
let sources: { passwdFile: string; groupFile: string; uid: number; gid: number };

beforeAll(async () => {
  dir = await makeTempDir('run-as');
  sources = {
    passwdFile: join(dir.path, 'passwd'),
    groupFile: join(dir.path, 'group'),
    uid: 0,
    gid: 0,
  };
  await writeFile(
    sources.passwdFile,
    [
      'root:x:0:0:root:/root:/bin/bash',
      'deploy:x:1001:1001:Deploy:/home/deploy:/bin/sh',
      '# not an entry',
      'broken:x:notanumber:1',
      '',
    ].join('\n'),
  );
  await writeFile(
    sources.groupFile,
    ['root:x:0:', 'deploy:x:1001:', 'adm:x:4:deploy', ''].join('\n'),
  );
});

afterAll(async () => {
  await dir.remove();
});

const idAction = (extra: Record<string, unknown>) => action({ argv: ['/usr/bin/id'], ...extra });

describe('resolveAccounts', () => {
  it('resolves a user to its uid and primary group, and a group override', async () => {
    const result = await resolveAccounts(
      {
        pull: idAction({ user: 'deploy' }),
        logs: idAction({ user: 'deploy', group: 'adm' }),
        numeric: idAction({ user: '1001' }),
        groupOnly: idAction({ group: 'adm' }),
        plain: idAction({}),
      },
      sources,
    );

    expect(result.ok && Object.fromEntries(result.accounts)).toEqual({
      pull: { uid: 1001, gid: 1001 },
      logs: { uid: 1001, gid: 4 },
      numeric: { uid: 1001, gid: 1001 },
      groupOnly: { gid: 4 },
    });
  });

  it('names the action and key of an unknown user or group', async () => {
    const result = await resolveAccounts(
      {
        a: idAction({ user: 'ghost' }),
        b: idAction({ group: 'phantom' }),
        c: idAction({ user: '4242' }),
        d: idAction({ user: 'broken' }),
      },
      sources,
    );

    expect(result.ok || result.errors).toEqual([
      `actions.a.user: no user "ghost" in ${sources.passwdFile}`,
      `actions.b.group: no group "phantom" in ${sources.groupFile}`,
      `actions.c.user: uid 4242 has no entry in ${sources.passwdFile}; set "group" too`,
      `actions.d.user: no user "broken" in ${sources.passwdFile}`,
    ]);
  });

  it('refuses a switch the agent cannot make when it does not run as root', async () => {
    const result = await resolveAccounts(
      { pull: idAction({ user: 'deploy' }) },
      { ...sources, uid: 1000, gid: 1000 },
    );

    expect(result.ok || result.errors).toEqual([
      'actions.pull.user: the agent runs as uid 1000 and cannot switch',
    ]);
  });

  it('reports an unreadable account database', async () => {
    const result = await resolveAccounts(
      { pull: idAction({ user: 'deploy' }) },
      { ...sources, passwdFile: join(dir.path, 'missing') },
    );

    expect(result.ok || result.errors).toEqual([
      `${join(dir.path, 'missing')}: cannot read the file (ENOENT)`,
    ]);
  });

  it('reads nothing when no action switches user', async () => {
    const result = await resolveAccounts(
      { plain: idAction({}) },
      { passwdFile: '/nonexistent', groupFile: '/nonexistent' },
    );

    expect(result.ok && result.accounts.size).toBe(0);
  });
});

describe('running as another user', () => {
  it('refuses an action whose user was not resolved at start-up, rather than run it as root', async () => {
    const log = captureLogger();
    const runner = createActionRunner({
      limits: { maxConcurrent: 1, maxQueued: 0, killGraceSeconds: 1 },
      logger: log.logger,
    });
    const outcome = await runner.run(request('who', idAction({ user: 'nobody' })).request);

    expect(outcome).toMatchObject({ outcome: 'failed', error: { code: 'internal' } });
    expect(outcome.startedAt).toBeUndefined();
    expect(log.lines()).toContainEqual(
      expect.objectContaining({ msg: 'run-as account not resolved', action: 'who' }),
    );
  });

  it.skipIf(!isRoot)(
    'runs as nobody with only its group, dropping the agent root groups (needs root)',
    async () => {
      const actions = {
        who: action({ argv: ['/bin/sh', '-c', 'id -u; id -g; id -G'], user: 'nobody' }),
      };
      const resolved = await resolveAccounts(actions);

      expect(resolved.ok).toBe(true);
      if (!resolved.ok) {
        return;
      }

      const nobody = resolved.accounts.get('who');
      const runner = createActionRunner({
        limits: { maxConcurrent: 1, maxQueued: 0, killGraceSeconds: 1 },
        logger: captureLogger().logger,
        accounts: resolved.accounts,
      });
      const outcome = await runner.run(request('who', actions.who).request);

      expect(outcome.outcome).toBe('succeeded');
      expect(outcome.output.stdout).toBe(`${nobody?.uid}\n${nobody?.gid}\n${nobody?.gid}\n`);
      expect(nobody?.uid).not.toBe(0);
    },
  );
});
