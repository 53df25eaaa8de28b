import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRequests, LoadPlan, runLoad, type LoadReport } from '../lib/http-loadgen.js';
import { StatusServer, type Answer } from './helpers/status-server.js';

// The load generator (the compiled C program, in a process of its own) against real servers in
// this process, on 127.0.0.1. Runs last a few hundred milliseconds; assertions are on what was
// sent and counted, and on timing only where a loaded machine can make the figure larger but
// never smaller.

const ALLOWED = Buffer.from('POST /acl HTTP/1.1\r\nContent-Length: 7\r\n\r\nallowed');
const DENIED = Buffer.from('POST /acl HTTP/1.1\r\nContent-Length: 6\r\n\r\ndenied');
/** 200 per second: one request due every 5 ms. */
const RATE = 200;
const INTERVAL_MS = 1_000 / RATE;
const STALL_MS = 200;

const servers: StatusServer[] = [];
const folders: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true })));
});

async function serve(answer: (request: Buffer, at: number) => Answer): Promise<StatusServer> {
  const server = await StatusServer.start(answer);
  servers.push(server);

  return server;
}

const allowOrDeny = (request: Buffer): number => (request.equals(ALLOWED) ? 200 : 403);

function target(server: StatusServer) {
  return {
    host: '127.0.0.1',
    port: server.port,
    requests: [ALLOWED, DENIED].map((request) => request.toString('base64')),
  };
}

/** Every request sent failed: no status was read and no latency kept. */
function expectOnlyErrors(report: LoadReport): void {
  expect(report.sent).toBeGreaterThan(0);
  expect(report.errors).toBe(report.sent);
  expect(report.latencies).toEqual([]);
  expect(report.statuses).toEqual({});
}

/** Due times in a window of `ms` at RATE; the float sum of intervals may land one either side. */
function expectScheduled(count: number, ms: number): void {
  expect(count).toBeGreaterThanOrEqual(ms / INTERVAL_MS - 1);
  expect(count).toBeLessThanOrEqual(ms / INTERVAL_MS + 1);
}

describe('runLoad, closed loop', () => {
  it('sends each request whole on a new connection and counts the statuses it reads', async () => {
    const server = await serve(allowOrDeny);

    const report = await runLoad({
      ...target(server),
      mode: 'closed',
      concurrency: 3,
      durationMs: 300,
      warmupMs: 0,
    });

    expect(server.connections).toBe(report.sent);
    expect(server.arrivals).toHaveLength(report.sent);
    expect(
      server.arrivals.every(({ request }) => request.equals(ALLOWED) || request.equals(DENIED)),
    ).toBe(true);
    expect(report.sent).toBeGreaterThan(3);
    expect(server.mostUnanswered).toBeLessThanOrEqual(3);
    expect(report.distinct).toBe(2);
    expect(report.errors).toBe(0);
    expect(report.seconds).toBe(0.3);

    // Round-robin over the two requests, every one of them measured (no warm-up).
    const allowed = report.statuses['200'] ?? 0;
    const denied = report.statuses['403'] ?? 0;
    expect(Object.keys(report.statuses).sort()).toEqual(['200', '403']);
    expect(allowed + denied).toBe(report.sent);
    expect(Math.abs(allowed - denied)).toBeLessThanOrEqual(1);
    expect(report.latencies).toHaveLength(report.sent);
  });

  it('sends the requests of a requestsFile written by encodeRequests, in order', async () => {
    const requests = [
      ALLOWED,
      Buffer.from('POST /acl HTTP/1.1\r\nContent-Length: 10\r\n\r\ntopic=é/ü', 'utf8'),
      Buffer.alloc(70_000, 'x'),
    ];
    const folder = await mkdtemp(join(tmpdir(), 'beckon-loadgen-test-'));
    folders.push(folder);
    const requestsFile = join(folder, 'requests.bin');
    await writeFile(requestsFile, encodeRequests(requests));
    const server = await serve(() => 200);

    const report = await runLoad({
      host: '127.0.0.1',
      port: server.port,
      requestsFile,
      mode: 'closed',
      concurrency: 1,
      durationMs: 200,
      warmupMs: 0,
    });

    expect(report.distinct).toBe(3);
    expect(report.sent).toBeGreaterThanOrEqual(3);
    server.arrivals.forEach(({ request }, index) => {
      expect(request.equals(requests[index % 3]!)).toBe(true);
    });
  });

  it('does not count what it sent during the warm-up', async () => {
    const started = performance.now();
    const warmupMs = 200;
    // Anything that arrives this early was sent in the warm-up, so must not be counted.
    const server = await serve((_request, at) => (at < started + warmupMs ? 503 : 200));

    const report = await runLoad({
      ...target(server),
      mode: 'closed',
      concurrency: 2,
      durationMs: 200,
      warmupMs,
    });

    expect(server.arrivals.some(({ at }) => at < started + warmupMs)).toBe(true);
    expect(report.statuses['503']).toBeUndefined();
    expect(report.statuses['200']).toBe(report.latencies.length);
    expect(report.latencies.length).toBeLessThan(report.sent);
  });

  it('counts a connection closed without an answer as an error', async () => {
    const server = await serve(() => 'hang up');

    const report = await runLoad({
      ...target(server),
      mode: 'closed',
      concurrency: 2,
      durationMs: 200,
      warmupMs: 0,
    });

    expectOnlyErrors(report);
  });

  it('counts a refused connection as an error', async () => {
    const server = await serve(() => 200);
    const closedPort = target(server);
    await server.close();
    servers.splice(servers.indexOf(server), 1);

    const report = await runLoad({
      ...closedPort,
      mode: 'closed',
      concurrency: 1,
      durationMs: 100,
      warmupMs: 0,
    });

    expectOnlyErrors(report);
  });

  it("fails with the generator's reason when the requests file is malformed", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'beckon-loadgen-test-'));
    folders.push(folder);
    const requestsFile = join(folder, 'requests.bin');
    // A length that promises more bytes than follow.
    await writeFile(requestsFile, Buffer.from([0, 0, 0, 9, 1, 2]));

    await expect(
      runLoad({
        host: '127.0.0.1',
        port: 9,
        requestsFile,
        mode: 'closed',
        concurrency: 1,
        durationMs: 100,
        warmupMs: 0,
      }),
    ).rejects.toThrow(/exit 2.*requests file holds a request of a bad length/);
  });
});

describe('runLoad, open loop', () => {
  it('sends every request of the schedule and none before it is due', async () => {
    const started = performance.now();
    const server = await serve(allowOrDeny);

    const report = await runLoad({
      ...target(server),
      mode: 'open',
      rate: RATE,
      concurrency: 1,
      durationMs: 400,
      warmupMs: 0,
    });

    expectScheduled(report.sent, 400);
    expect(server.arrivals).toHaveLength(report.sent);
    expect(report.latencies.length + report.errors).toBe(report.sent);

    // Request k is due INTERVAL_MS * k after the run started (which is after `started`), so
    // the k-th arrival to come in cannot be earlier than that.
    const arrivals = server.arrivals.map(({ at }) => at).sort((a, b) => a - b);
    const early = arrivals.filter((at, k) => at < started + k * INTERVAL_MS - 1e-6);
    expect(early).toEqual([]);
  });

  it('keeps to the schedule while the server holds its answers back', async () => {
    const started = performance.now();
    const holdFrom = started + 150;
    const holdUntil = holdFrom + STALL_MS;
    const server = await serve((_request, at) =>
      at >= holdFrom && at < holdUntil
        ? new Promise((resolve) => setTimeout(() => resolve(200), holdUntil - at))
        : 200,
    );

    const report = await runLoad({
      ...target(server),
      mode: 'open',
      rate: RATE,
      concurrency: 1,
      durationMs: 500,
      warmupMs: 0,
    });

    // A closed loop would have waited on the held answers; the schedule went out regardless.
    expectScheduled(report.sent, 500);
    const held = server.arrivals.filter(({ at }) => at >= holdFrom && at < holdUntil);
    expect(held.length).toBeGreaterThan(10);
    // The first half of the held requests waited 100 ms or more, and it shows.
    expect(report.latencies.filter((ms) => ms >= 100).length).toBeGreaterThanOrEqual(10);
    expect(report.errors).toBe(0);
  });

  it('counts a request due while the generator was stalled from when it was due', async () => {
    // The generator is stopped mid-run (as a descheduled process would be), so the requests
    // that fall due meanwhile can only go out when it resumes.
    const stallAtMs = 300;
    let resumed!: () => void;
    const stallOver = new Promise<void>((resolve) => (resumed = resolve));
    const server = await serve(() => 200);

    const report = await runLoad(
      {
        ...target(server),
        mode: 'open',
        rate: RATE,
        concurrency: 1,
        durationMs: 700,
        warmupMs: 100,
      },
      {
        onStart: (pid) => {
          setTimeout(() => {
            process.kill(pid, 'SIGSTOP');
            setTimeout(() => {
              process.kill(pid, 'SIGCONT');
              resumed();
            }, STALL_MS);
          }, stallAtMs);
        },
      },
    );

    await stallOver;
    // About 40 requests fell due in the stall; the first 20 of them waited 100 ms or more.
    expect(report.latencies.filter((ms) => ms >= 100).length).toBeGreaterThanOrEqual(15);
    expect(Math.max(...report.latencies)).toBeGreaterThanOrEqual(STALL_MS - INTERVAL_MS);
    // ... and the generator says it was late: about 4 s of lag over about 120 requests.
    expect(report.meanSendLagMs).toBeGreaterThan(10);
    expectScheduled(report.sent, 800);
  });

  it('does not count what was due during the warm-up', async () => {
    const started = performance.now();
    const warmupMs = 200;
    const server = await serve((_request, at) => (at < started + warmupMs ? 503 : 200));

    const report = await runLoad({
      ...target(server),
      mode: 'open',
      rate: RATE,
      concurrency: 1,
      durationMs: 200,
      warmupMs,
    });

    expect(server.arrivals.some(({ at }) => at < started + warmupMs)).toBe(true);
    expect(report.statuses['503']).toBeUndefined();
    expectScheduled(report.sent, 400);
    expectScheduled(report.latencies.length + report.errors, 200);
  });

  it('counts a connection closed without an answer as an error', async () => {
    const server = await serve(() => 'hang up');

    const report = await runLoad({
      ...target(server),
      mode: 'open',
      rate: RATE,
      concurrency: 1,
      durationMs: 200,
      warmupMs: 0,
    });

    expectScheduled(report.errors, 200);
    expect(report.latencies).toEqual([]);
  });
});

describe('LoadPlan', () => {
  const closed = {
    host: '127.0.0.1',
    port: 8080,
    requests: [ALLOWED.toString('base64')],
    mode: 'closed',
    concurrency: 4,
    durationMs: 1_000,
    warmupMs: 100,
  };

  /** Each problem as `key: message`, so a test can check that it names the key. */
  function problems(input: unknown): string[] {
    const result = LoadPlan.safeParse(input);

    return result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  }

  it('accepts a closed-loop plan and an open-loop plan with a rate', () => {
    expect(problems(closed)).toEqual([]);
    expect(problems({ ...closed, mode: 'open', rate: 500 })).toEqual([]);
    expect(problems({ ...closed, requests: undefined, requestsFile: '/tmp/r.bin' })).toEqual([]);
  });

  it('rejects both requests and requestsFile', () => {
    expect(problems({ ...closed, requestsFile: '/tmp/r.bin' })).toEqual([
      ': give exactly one of requests and requestsFile',
    ]);
  });

  it('rejects neither requests nor requestsFile', () => {
    expect(problems({ ...closed, requests: undefined })).toEqual([
      ': give exactly one of requests and requestsFile',
    ]);
  });

  it('rejects an empty list of requests', () => {
    expect(problems({ ...closed, requests: [] })).toEqual([expect.stringMatching(/^requests: /)]);
  });

  it('rejects an open loop without a rate', () => {
    expect(problems({ ...closed, mode: 'open' })).toEqual([': an open-loop plan needs a rate']);
  });

  it.each([
    ['port', 0],
    ['concurrency', 0],
    ['durationMs', 0],
    ['rate', 0],
    ['rate', -5],
    ['warmupMs', -1],
    ['port', -1],
  ])('rejects %s %d, naming it', (key, value) => {
    expect(problems({ ...closed, mode: 'open', rate: 100, [key]: value })).toEqual([
      expect.stringMatching(new RegExp(`^${key}: Too small`)),
    ]);
  });

  it('rejects a host that is not a numeric IPv4 address, naming it', () => {
    expect(problems({ ...closed, host: 'localhost' })).toEqual([expect.stringMatching(/^host: /)]);
  });

  it('rejects a fractional concurrency, naming it', () => {
    expect(problems({ ...closed, concurrency: 1.5 })).toEqual([
      expect.stringMatching(/^concurrency: .*int/),
    ]);
  });

  it('rejects an unknown key, naming it', () => {
    expect(problems({ ...closed, rps: 100 })).toEqual([expect.stringMatching(/: .*"rps"/)]);
  });
});
