import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerChecksOptionsInput } from '../src/broker/options.js';
import { MemoryDirectory } from './helpers/memory-directory.js';
import { sendRaw } from './helpers/raw-http.js';
import { startChecks, type RunningChecks } from './helpers/start-checks.js';

// Logins and directory changes through the plug's http backend: the caches answer from memory,
// and every change in the directory is in effect on the very next check.

function plug(path: string, username: string, password: string, topic = '', acc = '-1'): string {
  const enc = (value: string) =>
    encodeURIComponent(value).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  const clientid = path === '/acl' ? 'client id not available' : '';
  const body = `username=${enc(username)}&password=${enc(password)}&topic=${enc(topic)}&acc=${acc}&clientid=${clientid}`;
  const basic = Buffer.from(`${username}:${password}`).toString('base64');

  return [
    `POST ${path} HTTP/1.1`,
    'Host: 127.0.0.1:18080',
    `Authorization: Basic ${basic}`,
    'Accept: */*',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Content-Type: application/x-www-form-urlencoded',
    '',
    body,
  ].join('\r\n');
}

const login = async (service: RunningChecks, username: string, password: string) =>
  (await sendRaw(service.port, plug('/auth', username, password))).status;

const aclCheck = async (service: RunningChecks, username: string, topic: string, acc: string) =>
  (await sendRaw(service.port, plug('/acl', username, '', topic, acc))).status;

const COMMANDS_A = 'beckon/v1/agents/agent-a/commands';

let running: RunningChecks | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(directory: MemoryDirectory, now?: () => number): Promise<RunningChecks> {
  running = await startChecks(
    directory,
    { throttle: { usernameBurst: 3, usernameRefillMs: 60_000 } },
    now,
  );

  return running;
}

/** Counts how many secret checks run at the same moment. */
class CountingDirectory extends MemoryDirectory {
  #running = 0;
  mostAtOnce = 0;

  override async verifySecret(username: string, password: string): Promise<boolean> {
    this.#running += 1;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.#running);

    try {
      return await super.verifySecret(username, password);
    } finally {
      this.#running -= 1;
    }
  }
}

/** Runs `rotate` once, right after a secret check has read the stored secret it checks. */
class RotatesDuringCheck extends MemoryDirectory {
  rotate: (() => void) | undefined;

  override verifySecret(username: string, password: string): Promise<boolean> {
    const result = super.verifySecret(username, password);
    const rotate = this.rotate;
    this.rotate = undefined;
    rotate?.();

    return result;
  }
}

/** `agent-0` ... with secrets `secret-0` ... */
function fleet(size: number): CountingDirectory {
  return new CountingDirectory({
    principals: Array.from({ length: size }, (_, index) => ({
      id: `agent-${index}`,
      kind: 'agent' as const,
      secret: `secret-${index}`,
    })),
  });
}

async function startWith(
  directory: MemoryDirectory,
  throttle: BrokerChecksOptionsInput['throttle'],
): Promise<RunningChecks> {
  running = await startChecks(directory, { throttle });

  return running;
}

/** Gives `id` a new secret, as a rotation through the admin API would. */
function rotateSecret(directory: MemoryDirectory, id: string, secret: string): void {
  directory.update((current) => ({
    ...current,
    principals: (current.principals ?? []).map((principal) =>
      principal.id === id ? { ...principal, secret } : principal,
    ),
  }));
}

function agents(): MemoryDirectory {
  return new MemoryDirectory({
    principals: [
      { id: 'agent-a', kind: 'agent', secret: 'right-secret-a' },
      { id: 'agent-b', kind: 'agent', secret: 'right-secret-b' },
      { id: 'app-p', kind: 'app', secret: 'app-secret' },
    ],
    grants: [{ id: 'g1', appId: 'app-p', agents: ['agent-a'], groups: [] }],
  });
}

describe('logins', () => {
  it('lets the right secret in and keeps the wrong one, an empty one and strangers out', async () => {
    const service = await start(agents());

    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);
    expect(await login(service, 'agent-a', 'right-secret-b')).toBe(403);
    expect(await login(service, 'agent-a', '')).toBe(403);
    expect(await login(service, 'stranger', 'right-secret-a')).toBe(403);
  });

  it('hashes a secret once for a storm of reconnects', async () => {
    const directory = agents();
    const service = await start(directory);

    for (let attempt = 0; attempt < 20; attempt += 1) {
      expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);
    }

    expect(directory.verifyCalls).toBe(1);
  });

  it('shares one hash between concurrent logins with the same secret', async () => {
    const directory = agents();
    const service = await start(directory);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => login(service, 'agent-a', 'right-secret-a')),
    );

    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(directory.verifyCalls).toBe(1);
  });

  it('never asks the store about unknown users', async () => {
    const directory = agents();
    const service = await start(directory);

    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect(await login(service, `nobody-${attempt}`, 'x')).toBe(403);
    }

    expect(directory.verifyCalls).toBe(0);
  });

  it('answers 500 when the store itself fails, so the broker knows it is not a no', async () => {
    const directory = agents();
    const service = await start(directory);
    directory.failure = new Error('database is down');

    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(500);
    expect(service.metrics.render()).toMatch(/beckon_auth_store_errors_total 1/);
  });
});

describe('failed-login throttling', () => {
  it('stops hashing a username after a burst of wrong secrets, and warns once', async () => {
    const directory = agents();
    const service = await start(directory);

    for (let attempt = 0; attempt < 10; attempt += 1) {
      expect(await login(service, 'agent-b', `guess-${attempt}`)).toBe(403);
    }

    expect(directory.verifyCalls).toBe(3);
    expect(service.metrics.render()).toMatch(/scope="username"\} 7/);
    const warnings = service.logs.filter((line) => line.msg === 'login throttled');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, username: 'agent-b', scope: 'username' });
  });

  it('throttles concurrent guesses too: they cannot all start hashing at once', async () => {
    const directory = agents();
    const service = await start(directory);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, attempt) => login(service, 'agent-b', `guess-${attempt}`)),
    );

    expect(statuses.every((status) => status === 403)).toBe(true);
    expect(directory.verifyCalls).toBe(3);
  });

  it('does not count right secrets against the burst', async () => {
    const directory = agents();
    // No credential cache, so every login really checks the secret (a directory change no
    // longer forgets verified secrets it does not concern).
    running = await startChecks(directory, {
      throttle: { usernameBurst: 3, usernameRefillMs: 60_000 },
      cache: { credentialTtlMs: 0 },
    });

    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect(await login(running, 'agent-b', 'right-secret-b')).toBe(200);
    }

    expect(directory.verifyCalls).toBe(5);
  });

  it('still lets a valid agent in whose secret was verified before the flood', async () => {
    const service = await start(agents());
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);

    for (let attempt = 0; attempt < 50; attempt += 1) {
      await login(service, 'agent-a', `guess-${attempt}`);
    }

    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);
  });

  it('throttles per username: a flood against one agent does not touch another', async () => {
    const service = await start(agents());

    for (let attempt = 0; attempt < 10; attempt += 1) {
      await login(service, 'agent-b', `guess-${attempt}`);
    }

    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);
  });

  // A broker asking about many CONNECTs at once is one source. Each check used to take a
  // failure token before its hash ran, so 200 checks in flight refused every further login,
  // valid or not.
  it('lets a burst of valid logins from one source in, though it outnumbers the budget', async () => {
    const directory = fleet(12);
    const service = await startWith(directory, { sourceBurst: 3, sourceConcurrency: 4 });
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, index) => login(service, `agent-${index}`, `secret-${index}`)),
    );

    expect(statuses).toEqual(Array.from({ length: 12 }, () => 200));
    expect(service.metrics.render()).not.toMatch(
      /beckon_auth_throttled_logins_total\{[^}]*\} [1-9]/,
    );
  });

  it('runs at most sourceConcurrency secret checks at once per source; the rest wait', async () => {
    const directory = fleet(12);
    const service = await startWith(directory, { sourceConcurrency: 2 });
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, index) => login(service, `agent-${index}`, `secret-${index}`)),
    );

    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(directory.verifyCalls).toBe(12);
    expect(directory.mostAtOnce).toBeLessThanOrEqual(2);
  });

  it('bounds the hashes a flood of wrong secrets from one source costs', async () => {
    const directory = fleet(20);
    const service = await startWith(directory, { sourceBurst: 3, sourceConcurrency: 2 });
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => login(service, `agent-${index}`, 'wrong')),
    );

    expect(statuses.every((status) => status === 403)).toBe(true);
    // The budget, plus the checks already running when it ran dry.
    expect(directory.verifyCalls).toBeLessThanOrEqual(3 + 2);
    expect(service.metrics.render()).toMatch(
      /beckon_auth_throttled_logins_total\{scope="source"\} 1[5-7]/,
    );
  });

  it('lets the username in again once the refill period has passed', async () => {
    let clock = 1_000_000;
    const service = await start(agents(), () => clock);

    for (let attempt = 0; attempt < 5; attempt += 1) {
      await login(service, 'agent-b', `guess-${attempt}`);
    }

    expect(await login(service, 'agent-b', 'right-secret-b')).toBe(403);

    clock += 60_000;

    expect(await login(service, 'agent-b', 'right-secret-b')).toBe(200);
  });
});

describe('directory changes', () => {
  it('take effect on the very next ACL check, though the answer was cached', async () => {
    const directory = agents();
    const service = await start(directory);

    expect(await aclCheck(service, 'app-p', COMMANDS_A, '2')).toBe(200);
    expect(await aclCheck(service, 'app-p', COMMANDS_A, '2')).toBe(200);

    directory.update((current) => ({ ...current, grants: [] }));

    expect(await aclCheck(service, 'app-p', COMMANDS_A, '2')).toBe(403);

    directory.update((current) => ({
      ...current,
      grants: [{ id: 'g2', appId: 'app-p', agents: ['agent-a'], groups: [] }],
    }));

    expect(await aclCheck(service, 'app-p', COMMANDS_A, '2')).toBe(200);
  });

  it('refuse a disabled agent at once, even with a secret verified a moment ago', async () => {
    const directory = agents();
    const service = await start(directory);
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);

    directory.update((current) => ({
      ...current,
      principals: (current.principals ?? []).map((principal) =>
        principal.id === 'agent-a' ? { ...principal, enabled: false } : principal,
      ),
    }));

    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(403);
    expect(await aclCheck(service, 'agent-a', COMMANDS_A, '1')).toBe(403);
  });

  it('make a rotated secret stop working at once', async () => {
    const directory = agents();
    const service = await start(directory);
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);

    rotateSecret(directory, 'agent-a', 'rotated-secret');

    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(403);
    expect(await login(service, 'agent-a', 'rotated-secret')).toBe(200);
  });

  it('keep every verified secret a change does not concern: no login hashes again', async () => {
    const directory = agents();
    const service = await start(directory);
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);
    expect(await login(service, 'agent-b', 'right-secret-b')).toBe(200);

    directory.update((current) => ({
      ...current,
      grants: [],
      rules: [
        { id: 'r1', subject: { kind: 'all' }, pattern: 'x/#', access: ['read'], effect: 'allow' },
      ],
      principals: [
        ...(current.principals ?? []).map((principal) =>
          principal.id === 'agent-b' ? { ...principal, groups: ['moved'] } : principal,
        ),
        { id: 'agent-new', kind: 'agent', secret: 'new-secret' },
      ],
    }));

    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);
    expect(await login(service, 'agent-b', 'right-secret-b')).toBe(200);
    expect(directory.verifyCalls).toBe(2);
  });

  it('forget only the principal whose secret changed, and refuse its old secret at once', async () => {
    const directory = agents();
    const service = await start(directory);
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);
    expect(await login(service, 'agent-b', 'right-secret-b')).toBe(200);

    rotateSecret(directory, 'agent-a', 'rotated-secret');

    expect(await login(service, 'agent-b', 'right-secret-b')).toBe(200);
    expect(directory.verifyCalls).toBe(2);
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(403);
    expect(await login(service, 'agent-a', 'rotated-secret')).toBe(200);
  });

  it('forget a disabled or removed principal: back again, its secret is checked anew', async () => {
    const directory = agents();
    const service = await start(directory);
    const setEnabled = (enabled: boolean) =>
      directory.update((current) => ({
        ...current,
        principals: (current.principals ?? []).map((principal) =>
          principal.id === 'agent-a' ? { ...principal, enabled } : principal,
        ),
      }));
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);

    setEnabled(false);
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(403);
    setEnabled(true);
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);
    expect(directory.verifyCalls).toBe(2);

    const before = directory.current().principals.get('agent-a');
    directory.update((current) => ({
      ...current,
      principals: (current.principals ?? []).filter((principal) => principal.id !== 'agent-a'),
    }));
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(403);
    directory.update((current) => ({
      ...current,
      principals: [...(current.principals ?? []), { ...before!, secret: 'right-secret-a' }],
    }));
    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(200);
    expect(directory.verifyCalls).toBe(3);
  });

  it('refuse an old secret whose check was still running when it was rotated', async () => {
    const directory = new RotatesDuringCheck({
      principals: [{ id: 'agent-a', kind: 'agent', secret: 'right-secret-a' }],
    });
    const service = await start(directory);
    directory.rotate = () =>
      directory.update((current) => ({
        ...current,
        principals: [{ id: 'agent-a', kind: 'agent', secret: 'rotated-secret' }],
      }));

    expect(await login(service, 'agent-a', 'right-secret-a')).toBe(403);
    expect(directory.verifyCalls).toBe(2);
    expect(await login(service, 'agent-a', 'rotated-secret')).toBe(200);
  });

  it('refuse a removed agent at once', async () => {
    const directory = agents();
    const service = await start(directory);
    expect(await aclCheck(service, 'agent-a', COMMANDS_A, '4')).toBe(200);

    directory.update((current) => ({
      ...current,
      principals: (current.principals ?? []).filter((principal) => principal.id !== 'agent-a'),
    }));

    expect(await aclCheck(service, 'agent-a', COMMANDS_A, '4')).toBe(403);
  });

  it('explain follows the directory too', async () => {
    const directory = agents();
    const service = await start(directory);

    expect(service.checks.explain('app-p', COMMANDS_A, 'write').reason).toBe('app-commands-agent');
    directory.update((current) => ({ ...current, grants: [] }));
    expect(service.checks.explain('app-p', COMMANDS_A, 'write')).toEqual({
      allowed: false,
      reason: 'no-permission',
    });
  });
});
