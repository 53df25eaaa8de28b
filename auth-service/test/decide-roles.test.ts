import { describe, expect, it } from 'vitest';
import { DecisionEngine } from '../src/decide/decision-engine.js';
import type { CheckAccess } from '../src/decide/decision.js';
import { MemoryDirectory } from './helpers/memory-directory.js';

// The built-in permissions of docs/architecture.md "Who may do what", role by role.

const topics = {
  commands: (agent: string) => `beckon/v1/agents/${agent}/commands`,
  results: (agent: string) => `beckon/v1/agents/${agent}/results`,
  progress: (agent: string) => `beckon/v1/agents/${agent}/progress`,
  status: (agent: string) => `beckon/v1/agents/${agent}/status`,
  replies: (app: string) => `beckon/v1/apps/${app}/replies`,
};

function engine(): DecisionEngine {
  const directory = new MemoryDirectory({
    principals: [
      { id: 'agent-a', kind: 'agent', groups: ['web'] },
      { id: 'agent-b', kind: 'agent', groups: ['db'] },
      { id: 'agent-c', kind: 'agent', groups: ['web'] },
      { id: 'agent-off', kind: 'agent', enabled: false },
      { id: 'app-by-id', kind: 'app' },
      { id: 'app-by-group', kind: 'app' },
      { id: 'app-limited', kind: 'app' },
      { id: 'app-none', kind: 'app' },
      { id: 'app-off', kind: 'app', enabled: false },
      { id: 'root', kind: 'app', superuser: true },
      { id: 'root-off', kind: 'app', superuser: true, enabled: false },
    ],
    grants: [
      { id: 'g1', appId: 'app-by-id', agents: ['agent-a'], groups: [] },
      { id: 'g2', appId: 'app-by-group', agents: [], groups: ['web'] },
      { id: 'g3', appId: 'app-limited', agents: ['agent-b'], groups: [], actions: ['uptime'] },
      { id: 'g4', appId: 'app-off', agents: ['agent-a'], groups: [] },
      { id: 'g5', appId: 'app-by-id', agents: ['no-such-agent'], groups: [] },
    ],
  });

  return new DecisionEngine(directory.current());
}

function allowed(subject: DecisionEngine, user: string, topic: string, access: CheckAccess) {
  return subject.checkAcl(user, topic, access).allowed;
}

describe('agent A', () => {
  const subject = engine();

  it('reads and subscribes to its own commands topic, and nothing else of its own', () => {
    expect(subject.checkAcl('agent-a', topics.commands('agent-a'), 'subscribe')).toEqual({
      allowed: true,
      reason: 'agent-own-commands',
    });
    expect(allowed(subject, 'agent-a', topics.commands('agent-a'), 'read')).toBe(true);
    expect(allowed(subject, 'agent-a', topics.results('agent-a'), 'subscribe')).toBe(false);
    expect(allowed(subject, 'agent-a', topics.status('agent-a'), 'read')).toBe(false);
  });

  it('publishes its own results, progress and status but never its own commands', () => {
    for (const topic of [topics.results, topics.progress, topics.status]) {
      expect(subject.checkAcl('agent-a', topic('agent-a'), 'write')).toEqual({
        allowed: true,
        reason: 'agent-own-output',
      });
    }

    expect(allowed(subject, 'agent-a', topics.commands('agent-a'), 'write')).toBe(false);
  });

  it('denies every topic of another agent: its commands, its results, its status', () => {
    for (const access of ['read', 'write', 'subscribe'] as const) {
      for (const topic of [topics.commands, topics.results, topics.status]) {
        expect(allowed(subject, 'agent-a', topic('agent-b'), access)).toBe(false);
      }
    }
  });

  it('publishes replies only to apps granted it, and reads no replies inbox', () => {
    expect(subject.checkAcl('agent-a', topics.replies('app-by-id'), 'write')).toEqual({
      allowed: true,
      reason: 'agent-replies-to-app',
    });
    expect(allowed(subject, 'agent-a', topics.replies('app-by-group'), 'write')).toBe(true);
    expect(allowed(subject, 'agent-a', topics.replies('app-none'), 'write')).toBe(false);
    expect(allowed(subject, 'agent-a', topics.replies('app-off'), 'write')).toBe(false);
    expect(allowed(subject, 'agent-a', topics.replies('app-by-id'), 'read')).toBe(false);
    expect(allowed(subject, 'agent-b', topics.replies('app-by-id'), 'write')).toBe(false);
  });

  it('cannot subscribe to wildcard filters, even ones that only cover its own topics', () => {
    expect(allowed(subject, 'agent-a', 'beckon/v1/agents/agent-a/+', 'subscribe')).toBe(false);
    expect(allowed(subject, 'agent-a', 'beckon/v1/agents/+/commands', 'subscribe')).toBe(false);
    expect(allowed(subject, 'agent-a', '#', 'subscribe')).toBe(false);
  });
});

describe('an app granted an agent by id', () => {
  const subject = engine();

  it('publishes commands to the granted agent only', () => {
    expect(subject.checkAcl('app-by-id', topics.commands('agent-a'), 'write')).toEqual({
      allowed: true,
      reason: 'app-commands-agent',
    });
    expect(allowed(subject, 'app-by-id', topics.commands('agent-b'), 'write')).toBe(false);
  });

  it('reads and subscribes to results, progress and status of the granted agent', () => {
    for (const topic of [topics.results, topics.progress, topics.status]) {
      expect(allowed(subject, 'app-by-id', topic('agent-a'), 'read')).toBe(true);
      expect(allowed(subject, 'app-by-id', topic('agent-a'), 'subscribe')).toBe(true);
      expect(allowed(subject, 'app-by-id', topic('agent-b'), 'read')).toBe(false);
    }
  });

  it("never reads or subscribes to an agent's commands, nor publishes its results", () => {
    expect(allowed(subject, 'app-by-id', topics.commands('agent-a'), 'read')).toBe(false);
    expect(allowed(subject, 'app-by-id', topics.commands('agent-a'), 'subscribe')).toBe(false);
    expect(allowed(subject, 'app-by-id', topics.results('agent-a'), 'write')).toBe(false);
  });

  it('subscribes to one channel of all agents, and the reads are then checked per agent', () => {
    for (const channel of ['results', 'progress', 'status']) {
      expect(subject.checkAcl('app-by-id', `beckon/v1/agents/+/${channel}`, 'subscribe')).toEqual({
        allowed: true,
        reason: 'app-all-agents-filter',
      });
    }

    expect(allowed(subject, 'app-by-id', topics.results('agent-b'), 'read')).toBe(false);
  });

  it('is refused broader filters and the commands filter of all agents', () => {
    for (const filter of [
      'beckon/v1/agents/+/commands',
      'beckon/v1/agents/+/+',
      'beckon/v1/agents/agent-a/+',
      'beckon/v1/agents/#',
      'beckon/v1/#',
      '#',
      '+/v1/agents/agent-a/results',
    ]) {
      expect(allowed(subject, 'app-by-id', filter, 'subscribe')).toBe(false);
    }
  });

  it('reads and subscribes to its own replies inbox, not to another app’s', () => {
    expect(subject.checkAcl('app-by-id', topics.replies('app-by-id'), 'subscribe')).toEqual({
      allowed: true,
      reason: 'app-own-replies',
    });
    expect(allowed(subject, 'app-by-id', topics.replies('app-by-id'), 'read')).toBe(true);
    expect(allowed(subject, 'app-by-id', topics.replies('app-by-id'), 'write')).toBe(false);
    expect(allowed(subject, 'app-by-id', topics.replies('app-by-group'), 'read')).toBe(false);
  });

  it('gets nothing from a grant naming an agent that does not exist', () => {
    expect(allowed(subject, 'app-by-id', topics.commands('no-such-agent'), 'write')).toBe(false);
  });
});

describe('an app granted agents through a group', () => {
  const subject = engine();

  it('commands and reads every agent in the group and no other', () => {
    for (const agent of ['agent-a', 'agent-c']) {
      expect(allowed(subject, 'app-by-group', topics.commands(agent), 'write')).toBe(true);
      expect(allowed(subject, 'app-by-group', topics.status(agent), 'read')).toBe(true);
    }

    expect(allowed(subject, 'app-by-group', topics.commands('agent-b'), 'write')).toBe(false);
  });
});

describe('an app whose grant is limited to named actions', () => {
  it('gets the same topics as a full grant: the broker cannot see actions, the agent checks', () => {
    const subject = engine();

    expect(allowed(subject, 'app-limited', topics.commands('agent-b'), 'write')).toBe(true);
    expect(allowed(subject, 'app-limited', topics.results('agent-b'), 'read')).toBe(true);
  });
});

describe('an app without any grant', () => {
  it('may only use its own replies inbox and the all-agents filters', () => {
    const subject = engine();

    expect(allowed(subject, 'app-none', topics.commands('agent-a'), 'write')).toBe(false);
    expect(allowed(subject, 'app-none', topics.results('agent-a'), 'read')).toBe(false);
    expect(allowed(subject, 'app-none', topics.replies('app-none'), 'read')).toBe(true);
  });
});

describe('disabled, removed and unknown principals', () => {
  const subject = engine();

  it('denies every check for a disabled app even with a grant', () => {
    expect(subject.checkAcl('app-off', topics.commands('agent-a'), 'write')).toEqual({
      allowed: false,
      reason: 'disabled',
    });
    expect(subject.loginAllowed('app-off').allowed).toBe(false);
  });

  it('denies a disabled agent its own topics and its login', () => {
    expect(allowed(subject, 'agent-off', topics.commands('agent-off'), 'read')).toBe(false);
    expect(allowed(subject, 'agent-off', topics.results('agent-off'), 'write')).toBe(false);
    expect(subject.loginAllowed('agent-off')).toEqual({ allowed: false, reason: 'disabled' });
  });

  it('denies an id nobody has (or had, before it was removed)', () => {
    expect(subject.checkAcl('ghost', topics.commands('ghost'), 'read')).toEqual({
      allowed: false,
      reason: 'unknown-principal',
    });
    expect(subject.loginAllowed('ghost').allowed).toBe(false);
    expect(subject.isSuperuser('ghost').allowed).toBe(false);
  });
});

describe('superusers', () => {
  const subject = engine();

  it('may do everything, including topics outside the Beckon tree', () => {
    expect(subject.isSuperuser('root')).toEqual({ allowed: true, reason: 'superuser' });

    for (const access of ['read', 'write', 'subscribe'] as const) {
      expect(allowed(subject, 'root', topics.commands('agent-b'), access)).toBe(true);
      expect(allowed(subject, 'root', '$SYS/broker/uptime', access)).toBe(true);
    }

    expect(allowed(subject, 'root', '#', 'subscribe')).toBe(true);
  });

  it('loses everything when disabled', () => {
    expect(subject.isSuperuser('root-off').allowed).toBe(false);
    expect(allowed(subject, 'root-off', '#', 'subscribe')).toBe(false);
  });

  it('is not claimed by ordinary principals', () => {
    expect(subject.isSuperuser('agent-a')).toEqual({ allowed: false, reason: 'not-superuser' });
  });
});

describe('readwrite (mosquitto-go-auth acc 3)', () => {
  it('needs both read and write', () => {
    const subject = engine();

    expect(allowed(subject, 'agent-a', topics.commands('agent-a'), 'readwrite')).toBe(false);
    expect(allowed(subject, 'agent-a', topics.results('agent-a'), 'readwrite')).toBe(false);
    expect(allowed(subject, 'root', topics.results('agent-a'), 'readwrite')).toBe(true);
  });
});
