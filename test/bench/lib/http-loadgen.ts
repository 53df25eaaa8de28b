import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// Runs in its own process (forked by the benchmark) so the load generator never competes with
// the server under test for one event loop. Like mosquitto-auth-plug, it opens a new TCP
// connection for every request and reads only the status code.

export const LoadPlan = z
  .strictObject({
    host: z.string(),
    port: z.number().int().positive(),
    /** Raw HTTP requests (base64), sent round-robin. */
    requests: z.array(z.string()).min(1).optional(),
    /** Or a file of requests, each a 4-byte big-endian length and the bytes (large sets). */
    requestsFile: z.string().optional(),
    /** `closed`: back to back, `concurrency` at a time. `open`: `rate` per second on a schedule. */
    mode: z.enum(['closed', 'open']),
    concurrency: z.number().int().positive(),
    rate: z.number().positive().optional(),
    durationMs: z.number().int().positive(),
    warmupMs: z.number().int().nonnegative(),
  })
  .refine((plan) => (plan.requests === undefined) !== (plan.requestsFile === undefined), {
    error: 'give exactly one of requests and requestsFile',
  })
  .refine((plan) => plan.mode === 'closed' || plan.rate !== undefined, {
    error: 'an open-loop plan needs a rate',
  });

export type LoadPlan = z.infer<typeof LoadPlan>;

export interface LoadReport {
  /** Milliseconds from the instant a request was due (open loop) or started (closed loop). */
  readonly latencies: number[];
  /** Milliseconds the generator itself started requests after they were due (open loop). */
  readonly meanSendLagMs: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly seconds: number;
  /** Requests sent, warm-up included; more than `distinct` means the set was reused. */
  readonly sent: number;
  readonly distinct: number;
}

/** The most requests an open-loop run lets pile up before it counts new ones as errors. */
const MAX_OUTSTANDING = 512;
const LENGTH_BYTES = 4;
const STATUS_START = 'HTTP/1.1 '.length;
const STATUS_END = STATUS_START + 3;

/** Writes requests as the length-prefixed file `requestsFile` reads. */
export function encodeRequests(requests: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];

  for (const request of requests) {
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeUInt32BE(request.length);
    parts.push(length, request);
  }

  return Buffer.concat(parts);
}

function decodeRequests(file: Buffer): Buffer[] {
  const requests: Buffer[] = [];
  let offset = 0;

  while (offset + LENGTH_BYTES <= file.length) {
    const length = file.readUInt32BE(offset);
    requests.push(file.subarray(offset + LENGTH_BYTES, offset + LENGTH_BYTES + length));
    offset += LENGTH_BYTES + length;
  }

  return requests;
}

function loadRequests(plan: LoadPlan): Buffer[] {
  return plan.requestsFile === undefined
    ? (plan.requests ?? []).map((request) => Buffer.from(request, 'base64'))
    : decodeRequests(readFileSync(plan.requestsFile));
}

function sendOne(plan: LoadPlan, request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: plan.host, port: plan.port, noDelay: true });
    let head = '';

    socket.setEncoding('latin1');
    socket.once('connect', () => socket.end(request));
    socket.on('data', (chunk: string) => {
      head += chunk;

      if (head.includes('\r\n')) {
        socket.destroy();
        resolve(Number(head.slice(STATUS_START, STATUS_END)));
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before a status line')));
  });
}

// Sleeps until `due` without ever waking early: timers for the long waits, then yields to I/O
// for the last millisecond (a timer cannot wait less than 1 ms).
async function waitUntil(due: number): Promise<void> {
  let wait = due - performance.now();

  while (wait > 0) {
    if (wait > 2) {
      await new Promise((resolve) => setTimeout(resolve, wait - 1));
    } else {
      await yieldToIo();
    }
    wait = due - performance.now();
  }
}

export async function runLoad(plan: LoadPlan): Promise<LoadReport> {
  const requests = loadRequests(plan);

  if (requests.length === 0) {
    throw new Error(`no requests in ${plan.requestsFile ?? 'the plan'}`);
  }

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  let lagSum = 0;
  let lagCount = 0;
  const start = performance.now();
  const measureFrom = start + plan.warmupMs;
  const end = measureFrom + plan.durationMs;

  async function once(intended: number): Promise<void> {
    const request = requests[sent % requests.length] ?? Buffer.alloc(0);
    sent += 1;

    try {
      const status = await sendOne(plan, request);
      const done = performance.now();

      if (intended >= measureFrom) {
        latencies.push(done - intended);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    } catch {
      if (intended >= measureFrom) {
        errors += 1;
      }
    }
  }

  if (plan.mode === 'closed') {
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (performance.now() < end) {
          await once(performance.now());
        }
      }),
    );
  } else {
    const interval = 1_000 / (plan.rate ?? 1);
    const inFlight = new Set<Promise<void>>();
    let next = start;

    while (next < end) {
      await waitUntil(next);

      // Everything that fell due while we slept goes out now; latency still counts from the
      // instant each was due, so a server that stalls cannot hide its queue.
      const now = performance.now();

      while (next <= now && next < end) {
        if (next >= measureFrom) {
          lagSum += now - next;
          lagCount += 1;
        }

        if (inFlight.size >= MAX_OUTSTANDING) {
          errors += next >= measureFrom ? 1 : 0;
        } else {
          const pending = once(next).finally(() => inFlight.delete(pending));
          inFlight.add(pending);
        }
        next += interval;
      }
    }

    await Promise.all(inFlight);
  }

  return {
    latencies,
    meanSendLagMs: lagCount === 0 ? 0 : lagSum / lagCount,
    statuses,
    errors,
    seconds: plan.durationMs / 1_000,
    sent,
    distinct: requests.length,
  };
}

// As a forked child: one plan in over IPC, one report out.
if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', (message: unknown) => {
    const plan = LoadPlan.parse(message);

    runLoad(plan).then(
      (report) => {
        process.send?.(report, () => process.exit(0));
      },
      (error: unknown) => {
        process.stderr.write(`load generator failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  });
}
