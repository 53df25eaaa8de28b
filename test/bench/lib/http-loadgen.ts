import { connect } from 'node:net';
import { z } from 'zod';

// Runs in its own process (forked by the benchmark) so the load generator never competes with
// the server under test for one event loop. Like mosquitto-auth-plug, it opens a new TCP
// connection for every request and reads only the status code.

export const LoadPlan = z.strictObject({
  host: z.string(),
  port: z.number().int().positive(),
  /** Raw HTTP requests (base64), sent round-robin. */
  requests: z.array(z.string()).min(1),
  /** `closed`: back to back, `concurrency` at a time. `open`: `rate` per second on a schedule. */
  mode: z.enum(['closed', 'open']),
  concurrency: z.number().int().positive(),
  rate: z.number().positive().optional(),
  durationMs: z.number().int().positive(),
  warmupMs: z.number().int().nonnegative(),
});

export type LoadPlan = z.infer<typeof LoadPlan>;

export interface LoadReport {
  readonly latencies: number[];
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly seconds: number;
}

/** The longest an open-loop run lets requests pile up before it counts them as errors. */
const MAX_OUTSTANDING = 512;

function sendOne(plan: LoadPlan, request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: plan.host, port: plan.port, noDelay: true });
    let head = '';

    socket.setEncoding('latin1');
    socket.once('connect', () => socket.end(request));
    socket.on('data', (chunk: string) => {
      head += chunk;
      const lineEnd = head.indexOf('\r\n');

      if (lineEnd >= 0) {
        socket.destroy();
        resolve(Number(head.slice(9, 12)));
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before a status line')));
  });
}

export async function runLoad(plan: LoadPlan): Promise<LoadReport> {
  const requests = plan.requests.map((request) => Buffer.from(request, 'base64'));
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  const measureFrom = start + plan.warmupMs;
  const end = measureFrom + plan.durationMs;

  async function once(intended: number): Promise<void> {
    const request = requests[sent % requests.length] ?? requests[0];
    sent += 1;

    try {
      const status = await sendOne(plan, request as Buffer);
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
      const wait = next - performance.now();

      if (wait > 1) {
        await new Promise((resolve) => setTimeout(resolve, wait));
      }

      // Latency counts from the scheduled instant, so a stalled server cannot hide its queue.
      if (inFlight.size >= MAX_OUTSTANDING) {
        errors += next >= measureFrom ? 1 : 0;
      } else {
        const pending = once(next).finally(() => inFlight.delete(pending));
        inFlight.add(pending);
      }
      next += interval;
    }

    await Promise.all(inFlight);
  }

  return { latencies, statuses, errors, seconds: plan.durationMs / 1_000 };
}

// As a forked child: one plan in over IPC, one report out.
if (process.send !== undefined) {
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
