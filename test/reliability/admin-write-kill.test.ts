import { afterAll, describe, expect, it } from 'vitest';
import { AuthProcess, type AuthStore } from './support/auth-process.js';
import { reportFigure } from './support/figures.js';
import { createDatabase } from './support/postgres.js';

// `beckon-auth serve` is killed with SIGKILL while admin writes stream in; after a restart on the
// same store every write is wholly there or wholly absent, and every write that was answered
// 201 is there. Each write here touches several rows: the principal, three group memberships,
// the store revision and an audit entry.

const ROUNDS = 3;
const WRITERS = 4;
/** The kill lands this long after the writes start: after the first commits, mid-stream. */
const KILL_AFTER_MS = [150, 400, 800];
const GROUPS = ['g-one', 'g-two', 'g-three'];

type Attempt = { readonly id: string; answered: 'created' | 'unknown' };

interface Store {
  readonly name: string;
  make(): Promise<{ store: AuthStore | undefined; drop: () => Promise<void> }>;
}

const STORES: readonly Store[] = [
  {
    name: 'SQLite',
    make: () => Promise.resolve({ store: undefined, drop: () => Promise.resolve() }),
  },
  {
    name: 'PostgreSQL',
    make: async () => {
      const database = await createDatabase();

      return { store: { kind: 'postgres', url: database.url }, drop: database.drop };
    },
  },
];

const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) {
    await cleanup();
  }
});

async function writeUntilKilled(
  auth: AuthProcess,
  round: number,
  attempts: Attempt[],
): Promise<void> {
  let next = 0;
  let stopped = false;

  const writer = async (): Promise<void> => {
    while (!stopped) {
      const attempt: Attempt = { id: `w-${round}-${next++}`, answered: 'unknown' };
      attempts.push(attempt);

      try {
        await auth.admin.post('/v1/agents', { id: attempt.id, groups: GROUPS });
        attempt.answered = 'created';
      } catch {
        // The connection died with the process: the write may or may not have committed.
        stopped = true;
      }
    }
  };

  const writers = Array.from({ length: WRITERS }, writer);
  await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS[round] ?? 300));
  await auth.stop('SIGKILL');
  stopped = true;
  await Promise.all(writers);
}

describe.each(STORES)('the auth-service killed during admin writes ($name)', (backend) => {
  it('leaves every write wholly there or wholly absent, and keeps every answered one', async () => {
    const { store, drop } = await backend.make();
    const auth = await AuthProcess.create({
      ...(store === undefined ? {} : { store }),
      logLevel: 'warn',
    });
    cleanups.push(drop, () => auth.dispose());
    await auth.createAdminToken();
    const attempts: Attempt[] = [];

    for (let round = 0; round < ROUNDS; round += 1) {
      await auth.start();
      await writeUntilKilled(auth, round, attempts);
    }

    await auth.start();
    const problems: string[] = [];
    const present = new Set<string>();
    const groups = await Promise.all(
      GROUPS.map(async (name) => {
        const answer = await auth.admin.get(`/v1/groups/${name}`);

        return new Set((answer['group'] as { members: string[] }).members);
      }),
    );
    const audit = await auth.admin.get('/v1/audit?limit=1000');
    const entries = audit['entries'] as { revision: number; action: string; target: string }[];
    const audited = new Set(
      entries.filter((entry) => entry.action === 'agent.create').map((entry) => entry.target),
    );

    for (const attempt of attempts) {
      const response = await fetch(`${auth.adminUrl}/v1/agents/${attempt.id}`, {
        headers: { authorization: `Bearer ${auth.token}` },
      });
      const exists = response.status === 200;
      const body = (await response.json()) as { agent?: { groups: string[] } };

      if (exists) {
        present.add(attempt.id);
      }

      if (attempt.answered === 'created' && !exists) {
        problems.push(`${attempt.id} was answered 201 but is gone`);
      }

      if (exists && [...(body.agent?.groups ?? [])].sort().join() !== [...GROUPS].sort().join()) {
        problems.push(`${attempt.id} exists with groups ${JSON.stringify(body.agent?.groups)}`);
      }

      groups.forEach((members, index) => {
        if (members.has(attempt.id) !== exists) {
          problems.push(`${attempt.id}: membership of ${GROUPS[index] ?? ''} is ${!exists}`);
        }
      });

      if (audited.has(`agent:${attempt.id}`) !== exists) {
        problems.push(`${attempt.id}: audit entry ${exists ? 'missing' : 'without the agent'}`);
      }
    }

    const unknown = attempts.filter((attempt) => attempt.answered === 'unknown');
    reportFigure('admin-write-kill', {
      store: backend.name,
      rounds: ROUNDS,
      attempts: attempts.length,
      answered: attempts.length - unknown.length,
      unansweredButCommitted: unknown.filter((attempt) => present.has(attempt.id)).length,
      unansweredAndAbsent: unknown.filter((attempt) => !present.has(attempt.id)).length,
    });

    expect(problems).toEqual([]);
    expect(attempts.some((attempt) => attempt.answered === 'created')).toBe(true);
  });
});
