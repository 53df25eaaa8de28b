import type { PlugAcc } from '@beckon/auth-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuth, type RunningAuth } from '../harness/auth.js';

// Who may do what, asked through the real broker contract: PlugClient sends the exact requests
// mosquitto-auth-plug sends (superuser, then acl) to the running auth-service's broker
// listener. The expected answers are written from the table in docs/architecture.md ("Who may
// do what"), not from the code: any difference is either a bug or a doc that lies.

const ACCESS: Readonly<Record<'read' | 'write' | 'subscribe', PlugAcc>> = {
  read: 1,
  write: 2,
  subscribe: 4,
};
type Access = keyof typeof ACCESS;

const A = 'agent-a';
const B = 'agent-b';
const GONE = 'agent-gone';
const GRANTED = 'app-granted';
const UNGRANTED = 'app-ungranted';
const DISABLED = 'app-disabled';
const ROOT = 'root-app';
const OFF = 'agent-off';
const REMOVED_APP = 'app-removed';

type Principal =
  | { readonly name: string; readonly kind: 'agent'; readonly id: string }
  | { readonly name: string; readonly kind: 'app'; readonly id: string; readonly granted: string[] }
  | { readonly name: string; readonly kind: 'superuser'; readonly id: string }
  | { readonly name: string; readonly kind: 'refused'; readonly id: string };

const PRINCIPALS: readonly Principal[] = [
  { name: 'agent A', kind: 'agent', id: A },
  { name: 'agent B', kind: 'agent', id: B },
  { name: 'app with a grant on A', kind: 'app', id: GRANTED, granted: [A] },
  { name: 'app without a grant', kind: 'app', id: UNGRANTED, granted: [] },
  { name: 'disabled app (granted A)', kind: 'refused', id: DISABLED },
  { name: 'removed agent', kind: 'refused', id: GONE },
  { name: 'disabled agent', kind: 'refused', id: OFF },
  { name: 'removed app (was granted A)', kind: 'refused', id: REMOVED_APP },
  { name: 'superuser', kind: 'superuser', id: ROOT },
];

const CHANNELS = ['commands', 'results', 'progress', 'status'] as const;
const agentTopic = (id: string, channel: string): string => `beckon/v1/agents/${id}/${channel}`;
const replies = (id: string): string => `beckon/v1/apps/${id}/replies`;

const TOPICS: readonly string[] = [
  ...CHANNELS.map((channel) => agentTopic(A, channel)),
  ...CHANNELS.map((channel) => agentTopic(B, channel)),
  agentTopic(GONE, 'commands'),
  agentTopic(OFF, 'commands'),
  agentTopic(OFF, 'results'),
  replies(GRANTED),
  replies(UNGRANTED),
  replies(DISABLED),
  'beckon/v1/agents/+/results',
  'beckon/v1/agents/+/progress',
  'beckon/v1/agents/+/status',
  'beckon/v1/agents/+/commands',
  'beckon/v1/agents/agent-a/#',
  '#',
  'beckon/v1/#',
  '$SYS/#',
  '$SYS/broker/clients/connected',
  'other/topic',
  'beckon/v2/agents/agent-a/commands',
];

const RESULT_FILTERS = new Set(['results', 'progress', 'status'].map((c) => agentTopic('+', c)));

/** The documented model (docs/architecture.md, "Who may do what"). */
function expected(principal: Principal, topic: string, access: Access): boolean {
  switch (principal.kind) {
    case 'superuser':
      return true;
    case 'refused':
      // "Disabled or removed principals cannot connect and every check for them is denied."
      return false;
    case 'agent': {
      const own = principal.id;

      if (access === 'subscribe' || access === 'read') {
        return topic === agentTopic(own, 'commands');
      }

      // Results, progress, status of its own; replies of apps granted this agent.
      return (
        ['results', 'progress', 'status'].some((c) => topic === agentTopic(own, c)) ||
        (topic === replies(GRANTED) && own === A)
      );
    }
    case 'app': {
      if (access === 'write') {
        return principal.granted.some((agent) => topic === agentTopic(agent, 'commands'));
      }

      const grantedChannel = principal.granted.some((agent) =>
        ['results', 'progress', 'status'].some((c) => topic === agentTopic(agent, c)),
      );
      // The wildcard filters are allowed as subscriptions; each delivery is read-checked.
      const filter = access === 'subscribe' && RESULT_FILTERS.has(topic);

      return grantedChannel || filter || topic === replies(principal.id);
    }
  }
}

let auth: RunningAuth;
const secrets = new Map<string, string>();

beforeAll(async () => {
  auth = await startAuth();
  const { admin } = auth;

  for (const id of [A, B, GONE, OFF]) {
    secrets.set(id, await admin.addAgent(id));
  }

  for (const id of [GRANTED, UNGRANTED, DISABLED, REMOVED_APP]) {
    secrets.set(id, await admin.addApp(id));
  }

  const root = await admin.post('/v1/apps', { id: ROOT, superuser: true });
  secrets.set(ROOT, String(root['secret']));
  // The grant naming the removed agent stays in the store; it must not apply while it is gone.
  await admin.grant(GRANTED, { agents: [A, GONE] });
  await admin.grant(DISABLED, { agents: [A] });
  await admin.grant(REMOVED_APP, { agents: [A] });
  await admin.post(`/v1/apps/${DISABLED}/disable`);
  await admin.post(`/v1/agents/${OFF}/disable`);
  await admin.delete(`/v1/apps/${REMOVED_APP}`);
  await admin.delete(`/v1/agents/${GONE}`);
});

afterAll(async () => {
  await auth.close();
});

describe('the broker gate, principal by principal', () => {
  it.each(PRINCIPALS.map((principal) => [principal.name, principal] as const))(
    '%s: every topic class and access matches the documented model',
    async (_name, principal) => {
      const mismatches: string[] = [];

      for (const topic of TOPICS) {
        for (const access of Object.keys(ACCESS) as Access[]) {
          const answer = await auth.plug.checkAcl(principal.id, topic, ACCESS[access]);
          const want = expected(principal, topic, access);

          if (answer !== (want ? 'yes' : 'no')) {
            mismatches.push(`${access} ${topic}: got ${answer}, documented ${want ? 'yes' : 'no'}`);
          }
        }
      }

      expect(mismatches).toEqual([]);
    },
  );

  it.each(PRINCIPALS.map((principal) => [principal.name, principal] as const))(
    '%s: connects with its secret only if it is a live principal',
    async (_name, principal) => {
      const secret = secrets.get(principal.id) ?? '';

      expect(await auth.plug.authenticate(principal.id, secret)).toBe(
        principal.kind === 'refused' ? 'no' : 'yes',
      );
      expect(await auth.plug.authenticate(principal.id, `${secret}x`)).toBe('no');
    },
  );

  it('refuses a username that is not a principal, and one shaped like a topic filter', async () => {
    for (const username of ['nobody', 'agent-a/#', '+', '#', '']) {
      expect(await auth.plug.authenticate(username, 'whatever')).toBe('no');
      expect(await auth.plug.checkAcl(username, agentTopic(A, 'commands'), ACCESS.write)).toBe(
        'no',
      );
    }
  });
});
