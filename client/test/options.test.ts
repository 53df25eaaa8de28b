import { describe, expect, expectTypeOf, it } from 'vitest';
import { Backoff, DEFAULT_RECONNECT_SCHEDULE } from '../src/backoff.js';
import { connect, type BeckonClient, type SucceededResult } from '../src/index.js';

describe('connect options', () => {
  const base = { url: 'mqtt://127.0.0.1:1', appId: 'deployer', secret: 's', unsigned: true };

  it.each([
    [{ ...base, url: 'http://broker' }, 'options.url'],
    [{ ...base, appId: 'no/slash' }, 'options.appId'],
    [{ ...base, secret: undefined }, 'options.secret'],
    [{ ...base, unsigned: false }, 'options.authUrl'],
    [{ ...base, unsigned: false, authUrl: 'http://auth' }, 'options.privateKey'],
    [{ ...base, mqttVersion: '3' }, 'options.mqttVersion'],
    [{ ...base, logger: console }, 'options.logger'],
    [{ ...base, colour: 'blue' }, 'options'],
  ])('refuses %o naming %s', async (options, argument) => {
    await expect(connect(options)).rejects.toMatchObject({ code: 'invalid_arguments', argument });
  });

  it('gives up with not_connected when no broker answers within connectTimeout', async () => {
    await expect(connect({ ...base, connectTimeout: 300 })).rejects.toMatchObject({
      code: 'not_connected',
    });
  });

  it('stops trying when the caller aborts connect', async () => {
    const controller = new AbortController();
    const attempt = connect({ ...base, signal: controller.signal });
    setImmediate(() => controller.abort());

    await expect(attempt).rejects.toMatchObject({ code: 'aborted' });
  });

  it('refuses a private key of the wrong kind', async () => {
    await expect(
      connect({
        ...base,
        unsigned: false,
        authUrl: 'http://127.0.0.1:1',
        privateKey: { kty: 'oct' },
      }),
    ).rejects.toMatchObject({ argument: 'options.privateKey' });
  });
});

describe('reconnect backoff', () => {
  it('spreads the first attempt, then doubles up to the cap with jitter', () => {
    const low = new Backoff(DEFAULT_RECONNECT_SCHEDULE, () => 0);
    const high = new Backoff(DEFAULT_RECONNECT_SCHEDULE, () => 0.999_999);

    const lows = Array.from({ length: 10 }, () => low.next());
    const highs = Array.from({ length: 10 }, () => high.next());

    expect(lows[0]).toBe(0);
    expect(highs[0]).toBe(1_999);
    expect(lows.slice(1, 5)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(highs.slice(1, 5)).toEqual([1_999, 3_999, 7_999, 15_999]);
    expect(Math.max(...highs)).toBeLessThanOrEqual(60_000);
    expect(lows.at(-1)).toBe(30_000);
  });

  it('waits longer after the broker refused the credentials, and resets on success', () => {
    const backoff = new Backoff(DEFAULT_RECONNECT_SCHEDULE, () => 0);

    expect(backoff.next(true)).toBe(7_500);
    expect(backoff.next(true)).toBe(15_000);
    backoff.reset();
    expect(backoff.next()).toBe(0);
  });
});

// Checked by `pnpm typecheck`: the catalogue type makes args a compile-time contract.
interface Ops {
  ping: Record<string, never>;
  'restart-service': { unit: 'nginx' | 'postgresql'; force?: boolean };
}

describe('typed catalogue', () => {
  it('checks args per action at compile time', () => {
    const typed = (client: BeckonClient<Ops>) => {
      void client.send('web-01', 'restart-service', { unit: 'nginx' });
      void client.send('web-01', 'restart-service', { unit: 'postgresql', force: true });
      void client.send('web-01', 'ping', {});
      // @ts-expect-error unit must be one of the declared units
      void client.send('web-01', 'restart-service', { unit: 'apache' });
      // @ts-expect-error unit is required
      void client.send('web-01', 'restart-service', {});
      // @ts-expect-error force is a boolean
      void client.send('web-01', 'restart-service', { unit: 'nginx', force: 'yes' });
      // @ts-expect-error no such action in the catalogue
      void client.send('web-01', 'reboot', {});
    };

    const narrowed = (client: BeckonClient) => {
      const ops = client.typed<Ops>();
      void ops.sendMany(['web-01'], 'restart-service', { unit: 'nginx' });
      // @ts-expect-error typed() carries the catalogue to sendMany as well
      void ops.sendMany(['web-01'], 'restart-service', { unit: 42 });
    };

    expectTypeOf(narrowed).returns.toBeVoid();
    expectTypeOf(typed).parameter(0).toEqualTypeOf<BeckonClient<Ops>>();
    expectTypeOf<BeckonClient<Ops>['send']>().returns.toEqualTypeOf<Promise<SucceededResult>>();
    expectTypeOf(connect<Ops>).returns.resolves.toEqualTypeOf<BeckonClient<Ops>>();
    expectTypeOf<ReturnType<BeckonClient['typed']>>().not.toBeAny();
    // An untyped client takes any action with wire-valid args.
    expectTypeOf<Parameters<BeckonClient['send']>[2]>().toEqualTypeOf<
      Record<string, string | number | boolean>
    >();
  });
});

describe('docs/client.md', () => {
  it('documents every error code with the exit status the CLI gives it', async () => {
    const { readFile } = await import('node:fs/promises');
    const { ERROR_CODES } = await import('../src/index.js');
    const { EXIT, exitCodeFor } = await import('../src/cli/exit-codes.js');
    const docs = await readFile(new URL('../../docs/client.md', import.meta.url), 'utf8');

    const documented = new Map(
      [...docs.matchAll(/^\| `([a-z_]+)`\s+\|[^|]+\|\s+(\d+)\s+\|$/gm)].map((row) => [
        row[1],
        Number(row[2]),
      ]),
    );
    const statuses = [...docs.split('### Exit status')[1]!.matchAll(/^\| (\d+)\s+\|/gm)].map(
      (row) => Number(row[1]),
    );

    expect([...documented.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      expect(documented.get(code), code).toBe(exitCodeFor(code));
    }
    expect(statuses.sort((a, b) => a - b)).toEqual(Object.values(EXIT).sort((a, b) => a - b));
  });
});
