import { describe, expect, it } from 'vitest';
import { DecisionEngine } from '../src/decide/decision-engine.js';
import type { AclRule } from '../src/directory/types.js';
import { MemoryDirectory, type PrincipalInput } from './helpers/memory-directory.js';

// Extra ACL rules (patterns with `+`, `#`, `%u`; subjects principal, group, all), deny beating
// allow, and usernames and topics built to widen access.

const principals: PrincipalInput[] = [
  { id: 'sensor-1', kind: 'agent', groups: ['sensors'] },
  { id: 'sensor-2', kind: 'agent', groups: ['sensors'] },
  { id: 'dash', kind: 'app', groups: ['viewers'] },
  { id: 'agent-a', kind: 'agent' },
  { id: 'app-p', kind: 'app' },
];

function engine(rules: AclRule[]): DecisionEngine {
  return new DecisionEngine(
    new MemoryDirectory({
      principals,
      rules,
      grants: [{ id: 'g', appId: 'app-p', agents: ['agent-a'], groups: [] }],
    }).current(),
  );
}

const rule = (
  id: string,
  subject: AclRule['subject'],
  pattern: string,
  access: AclRule['access'],
  effect: AclRule['effect'] = 'allow',
): AclRule => ({ id, subject, pattern, access, effect });

describe('extra ACL rules', () => {
  it('substitutes %u with the username, so each sensor writes only its own subtree', () => {
    const subject = engine([
      rule('own-data', { kind: 'group', name: 'sensors' }, 'data/%u/#', ['write']),
    ]);

    expect(subject.checkAcl('sensor-1', 'data/sensor-1/temp', 'write')).toEqual({
      allowed: true,
      reason: 'rule-allow',
      rule: 'own-data',
    });
    expect(subject.checkAcl('sensor-1', 'data/sensor-2/temp', 'write').allowed).toBe(false);
    expect(subject.checkAcl('dash', 'data/dash/temp', 'write').allowed).toBe(false);
  });

  it('fills in %u as a first level, and refuses a filter naming anybody else', () => {
    const subject = engine([
      rule('inbox', { kind: 'all' }, '%u/inbox/#', ['write', 'subscribe']),
      rule('no-drafts', { kind: 'all' }, '%u/inbox/drafts', ['write'], 'deny'),
    ]);

    expect(subject.checkAcl('agent-a', 'agent-a/inbox/x', 'write').rule).toBe('inbox');
    expect(subject.checkAcl('agent-a', 'agent-a/inbox/#', 'subscribe').allowed).toBe(true);
    expect(subject.checkAcl('agent-a', 'sensor-1/inbox/x', 'write').allowed).toBe(false);
    expect(subject.checkAcl('agent-a', '+/inbox/#', 'subscribe').allowed).toBe(false);
    expect(subject.checkAcl('agent-a', 'agent-a/inbox/drafts', 'write').rule).toBe('no-drafts');
    expect(subject.checkAcl('sensor-1', 'agent-a/inbox/drafts', 'write').reason).toBe(
      'no-permission',
    );
  });

  it('fills in %u inside a level for each principal, and as several whole levels', () => {
    const subject = engine([
      rule('suffix', { kind: 'group', name: 'sensors' }, 'data/raw-%u/#', ['write']),
      rule('twice', { kind: 'all' }, 'pairs/%u/with/%u', ['write']),
    ]);

    expect(subject.checkAcl('sensor-1', 'data/raw-sensor-1/t', 'write').rule).toBe('suffix');
    expect(subject.checkAcl('sensor-2', 'data/raw-sensor-1/t', 'write').allowed).toBe(false);
    expect(subject.checkAcl('dash', 'pairs/dash/with/dash', 'write').rule).toBe('twice');
    expect(subject.checkAcl('dash', 'pairs/dash/with/agent-a', 'write').allowed).toBe(false);
  });

  it('keeps the directory order between %u rules and the others', () => {
    const subject = engine([
      rule('deny-first', { kind: 'all' }, 'home/%u/secret', ['read'], 'deny'),
      rule('allow-all-home', { kind: 'all' }, 'home/#', ['read']),
      rule('allow-own', { kind: 'all' }, 'home/%u/#', ['read']),
    ]);

    expect(subject.checkAcl('dash', 'home/dash/secret', 'read').rule).toBe('deny-first');
    expect(subject.checkAcl('dash', 'home/dash/open', 'read').rule).toBe('allow-all-home');
  });

  it('matches + for one level and # for any depth, including the parent level', () => {
    const subject = engine([
      rule('rooms', { kind: 'all' }, 'rooms/+/temp', ['read']),
      rule('logs', { kind: 'principal', id: 'dash' }, 'logs/#', ['read', 'subscribe']),
    ]);

    expect(subject.checkAcl('agent-a', 'rooms/kitchen/temp', 'read').allowed).toBe(true);
    expect(subject.checkAcl('agent-a', 'rooms/kitchen/sub/temp', 'read').allowed).toBe(false);
    expect(subject.checkAcl('dash', 'logs', 'read').allowed).toBe(true);
    expect(subject.checkAcl('dash', 'logs/a/b/c', 'read').allowed).toBe(true);
    expect(subject.checkAcl('sensor-1', 'logs/a', 'read').allowed).toBe(false);
  });

  it('grants only the access it names', () => {
    const subject = engine([rule('ro', { kind: 'all' }, 'public/#', ['read'])]);

    expect(subject.checkAcl('dash', 'public/x', 'read').allowed).toBe(true);
    expect(subject.checkAcl('dash', 'public/x', 'write').allowed).toBe(false);
    expect(subject.checkAcl('dash', 'public/x', 'subscribe').allowed).toBe(false);
  });

  it('allows a subscription only when the rule covers every topic the filter can match', () => {
    const subject = engine([
      rule('rooms', { kind: 'all' }, 'rooms/+/temp', ['subscribe']),
      rule('logs', { kind: 'all' }, 'logs/#', ['subscribe']),
    ]);

    expect(subject.checkAcl('dash', 'rooms/+/temp', 'subscribe').allowed).toBe(true);
    expect(subject.checkAcl('dash', 'rooms/kitchen/temp', 'subscribe').allowed).toBe(true);
    expect(subject.checkAcl('dash', 'rooms/#', 'subscribe').allowed).toBe(false);
    expect(subject.checkAcl('dash', 'rooms/+/+', 'subscribe').allowed).toBe(false);
    expect(subject.checkAcl('dash', 'logs/+/x/#', 'subscribe').allowed).toBe(true);
    expect(subject.checkAcl('dash', '#', 'subscribe').allowed).toBe(false);
  });

  it('lets a deny rule beat an allow rule, whatever their order', () => {
    const subject = engine([
      rule('all-public', { kind: 'all' }, 'public/#', ['read', 'subscribe']),
      rule(
        'no-secret',
        { kind: 'group', name: 'viewers' },
        'public/secret',
        ['read', 'subscribe'],
        'deny',
      ),
    ]);

    expect(subject.checkAcl('dash', 'public/secret', 'read')).toEqual({
      allowed: false,
      reason: 'rule-deny',
      rule: 'no-secret',
    });
    expect(subject.checkAcl('dash', 'public/other', 'read').allowed).toBe(true);
    expect(subject.checkAcl('sensor-1', 'public/secret', 'read').allowed).toBe(true);
  });

  it('denies a subscription that could deliver a denied topic, even through wildcards', () => {
    const subject = engine([
      rule('all-public', { kind: 'all' }, 'public/#', ['subscribe']),
      rule('no-secret', { kind: 'all' }, 'public/secret/#', ['subscribe'], 'deny'),
    ]);

    expect(subject.checkAcl('dash', 'public/#', 'subscribe').allowed).toBe(false);
    expect(subject.checkAcl('dash', 'public/+/x', 'subscribe').allowed).toBe(false);
    expect(subject.checkAcl('dash', 'public/open/#', 'subscribe').allowed).toBe(true);
  });

  it('lets a deny rule take back a role permission', () => {
    const subject = engine([
      rule(
        'quiet',
        { kind: 'principal', id: 'agent-a' },
        'beckon/v1/agents/%u/progress',
        ['write'],
        'deny',
      ),
    ]);

    expect(subject.checkAcl('agent-a', 'beckon/v1/agents/agent-a/progress', 'write')).toEqual({
      allowed: false,
      reason: 'rule-deny',
      rule: 'quiet',
    });
    expect(subject.checkAcl('agent-a', 'beckon/v1/agents/agent-a/results', 'write').allowed).toBe(
      true,
    );
  });

  it('ignores a rule whose pattern is not a valid filter', () => {
    const subject = engine([rule('broken', { kind: 'all' }, 'a/#/b', ['read'])]);

    expect(subject.checkAcl('dash', 'a/x/b', 'read').allowed).toBe(false);
  });

  it('keeps $SYS out of reach of a rule that starts with a wildcard', () => {
    const subject = engine([rule('everything', { kind: 'all' }, '#', ['read', 'subscribe'])]);

    expect(subject.checkAcl('dash', 'anything/at/all', 'read').allowed).toBe(true);
    expect(subject.checkAcl('dash', '$SYS/broker/uptime', 'read').allowed).toBe(false);
    expect(subject.checkAcl('dash', '$SYS/#', 'subscribe').allowed).toBe(false);
  });

  // The engine looks up rules by the topic's first level; the answer must still name the
  // earliest rule in the directory, whether it starts with a wildcard or a literal.
  it('names the earliest matching rule, whatever the first level of its pattern', () => {
    const wildcardFirst = engine([
      rule('any-room', { kind: 'all' }, '+/kitchen/#', ['read']),
      rule('rooms', { kind: 'all' }, 'rooms/#', ['read']),
    ]);
    const literalFirst = engine([
      rule('rooms', { kind: 'all' }, 'rooms/#', ['read']),
      rule('any-room', { kind: 'all' }, '+/kitchen/#', ['read']),
    ]);

    expect(wildcardFirst.checkAcl('dash', 'rooms/kitchen/temp', 'read').rule).toBe('any-room');
    expect(literalFirst.checkAcl('dash', 'rooms/kitchen/temp', 'read').rule).toBe('rooms');
    expect(literalFirst.checkAcl('dash', '+/kitchen', 'subscribe').allowed).toBe(false);
  });

  it('checks a subscription starting with a wildcard against rules of every first level', () => {
    const subject = engine([
      rule('no-secrets', { kind: 'all' }, 'vault/secrets/#', ['subscribe'], 'deny'),
      rule('everything', { kind: 'all' }, '#', ['subscribe']),
    ]);

    expect(subject.checkAcl('dash', '+/secrets/keys', 'subscribe').rule).toBe('no-secrets');
    expect(subject.checkAcl('dash', '+/public/news', 'subscribe').rule).toBe('everything');
  });
});

describe('hostile usernames', () => {
  // A rule for everyone, with %u: the classic way a crafted username widens a pattern.
  const subject = engine([
    rule('own', { kind: 'all' }, 'home/%u/#', ['read', 'write', 'subscribe']),
    rule('everything-of-all', { kind: 'all' }, 'beckon/v1/#', ['read']),
  ]);

  const hostile = [
    '+',
    '#',
    'a/b',
    'agent-a/..',
    'agent-a\u0000',
    '%u',
    'agent-a%',
    '',
    ' agent-a',
    'x'.repeat(129),
    'x'.repeat(100_000),
    'ägent',
  ];

  it.each(hostile)('never matches anything for %j', (username) => {
    for (const topic of ['home/+/x', 'home/#', '#', `home/${username}/x`, 'beckon/v1/#']) {
      expect(subject.checkAcl(username, topic, 'subscribe').allowed).toBe(false);
    }

    expect(subject.checkAcl(username, 'home/a/x', 'write').allowed).toBe(false);
    expect(subject.checkAcl(username, 'beckon/v1/agents/agent-a/results', 'read').allowed).toBe(
      false,
    );
    expect(subject.loginAllowed(username)).toEqual({ allowed: false, reason: 'invalid-username' });
    expect(subject.isSuperuser(username).allowed).toBe(false);
  });

  it('names the reason: the username is not a principal id', () => {
    expect(subject.checkAcl('+', 'home/+/x', 'read')).toEqual({
      allowed: false,
      reason: 'invalid-username',
    });
  });
});

describe('hostile topics', () => {
  const subject = engine([]);

  it.each([
    ['a wildcard in a published topic', 'beckon/v1/agents/+/commands', 'write'],
    ['# in a read', 'beckon/v1/agents/#', 'read'],
    ['NUL inside a topic', 'beckon/v1/agents/agent-a/commands\u0000', 'read'],
    ['an empty topic', '', 'read'],
    ['a topic over the length limit', `beckon/v1/${'x/'.repeat(600)}`, 'read'],
    ['# not last in a filter', 'beckon/#/commands', 'subscribe'],
    ['+ inside a level', 'beckon/v1/agents/agent-a+/commands', 'subscribe'],
  ] as const)('denies %s', (_name, topic, access) => {
    expect(subject.checkAcl('agent-a', topic, access)).toEqual({
      allowed: false,
      reason: 'invalid-topic',
    });
  });

  it('denies topics that look like a Beckon topic but are not exactly one', () => {
    for (const topic of [
      'beckon/v1/agents/agent-a/commands/',
      '/beckon/v1/agents/agent-a/commands',
      'beckon/v1/agents/agent-a/commands/x',
      'beckon/v1/agents//commands',
      'beckon/v2/agents/agent-a/commands',
      'Beckon/v1/agents/agent-a/commands',
    ]) {
      expect(subject.checkAcl('agent-a', topic, 'read').allowed).toBe(false);
    }
  });

  it('lets the app publish commands only to exact topics of granted agents', () => {
    expect(subject.checkAcl('app-p', 'beckon/v1/agents/agent-a/commands', 'write').allowed).toBe(
      true,
    );
    expect(subject.checkAcl('app-p', 'beckon/v1/agents/agent-a/commands/x', 'write').allowed).toBe(
      false,
    );
  });
});

describe('explain', () => {
  it('gives the same answer as the check and names the rule that decided', () => {
    const subject = engine([rule('ro', { kind: 'all' }, 'public/#', ['read'])]);

    expect(subject.explain('dash', 'public/x', 'read')).toEqual({
      allowed: true,
      reason: 'rule-allow',
      rule: 'ro',
    });
    expect(subject.explain('dash', 'private/x', 'read')).toEqual({
      allowed: false,
      reason: 'no-permission',
    });
  });
});
