import { createAdminToken } from '@beckon/auth-service';
import { afterAll, describe, expect, it } from 'vitest';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { createDatabase } from './support/postgres.js';

// Writes that race each other for the same thing, as installers and operator scripts do: the
// store must let exactly one win, and what it answered must be what it holds.

const RACERS = 10;
/** Ten wrong secrets are tried on purpose below: keep the broker's login throttle out of it. */
const NO_THROTTLE = { brokerChecks: { throttle: { usernameBurst: 1_000 } } };

interface Backend {
  readonly name: string;
  start(): Promise<{ auth: RunningAuth; drop: () => Promise<void> }>;
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'SQLite',
    start: async () => ({
      auth: await startAuth({ config: NO_THROTTLE }),
      drop: () => Promise.resolve(),
    }),
  },
  {
    name: 'PostgreSQL',
    start: async () => {
      const database = await createDatabase();
      const auth = await startAuth({
        config: {
          ...NO_THROTTLE,
          store: { kind: 'postgres', url: database.url },
          // Ten installers from one address: the rate limit is not what is under test.
          publicLimits: { burst: 1_000, perSecond: 1_000 },
        },
      });

      return { auth, drop: database.drop };
    },
  },
];

const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) {
    await cleanup();
  }
});

async function post(
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });

  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe.each(BACKENDS)('racing admin writes ($name)', (backend) => {
  it('a one-use enrollment token enrolls exactly one of ten racing installers', async () => {
    const { auth, drop } = await backend.start();
    cleanups.push(drop, () => auth.close());
    const answer = await auth.admin.post('/v1/enroll-tokens', { uses: 1 });
    const token = String(answer['token']);

    const results = await Promise.all(
      Array.from({ length: RACERS }, (_, index) =>
        post(`${auth.publicUrl}/v1/enroll`, { token, agentId: `racer-${index}` }),
      ),
    );
    const enrolled = results.filter((result) => result.status === 201);
    const agents = (await auth.admin.get('/v1/agents'))['agents'] as { id: string }[];

    expect(enrolled).toHaveLength(1);
    expect(results.filter((result) => result.status !== 201).every((r) => r.status === 401)).toBe(
      true,
    );
    expect(agents.map((agent) => agent.id)).toEqual([enrolled[0]?.body['agentId']]);
  });

  it('the same agent created ten times at once exists once, and nine callers hear 409', async () => {
    const { auth, drop } = await backend.start();
    cleanups.push(drop, () => auth.close());
    const { token } = await createAdminToken(auth.service.store, 'race', 'race');

    const results = await Promise.all(
      Array.from({ length: RACERS }, () =>
        post(`${auth.adminUrl}/v1/agents`, { id: 'twin' }, token),
      ),
    );
    const created = results.filter((result) => result.status === 201);
    const secret = String(created[0]?.body['secret']);

    expect(created).toHaveLength(1);
    expect(results.filter((result) => result.status === 409)).toHaveLength(RACERS - 1);
    expect(await auth.plug.authenticate('twin', secret)).toBe('yes');
  });

  it('of ten racing secret rotations exactly one secret works afterwards', async () => {
    const { auth, drop } = await backend.start();
    cleanups.push(drop, () => auth.close());
    const { token } = await createAdminToken(auth.service.store, 'race', 'race');
    const original = await auth.admin.addAgent('rotor');

    const results = await Promise.all(
      Array.from({ length: RACERS }, () =>
        post(`${auth.adminUrl}/v1/agents/rotor/rotate-secret`, {}, token),
      ),
    );
    const secrets = results.map((result) => String(result.body['secret']));
    const working = [];

    for (const secret of [original, ...secrets]) {
      if ((await auth.plug.authenticate('rotor', secret)) === 'yes') {
        working.push(secret);
      }
    }

    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(working).toHaveLength(1);
    expect(working[0]).not.toBe(original);
  });
});
