import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// The auth check's load generator. The work is done by a small C program
// (test/bench/loadgen/http-loadgen.c: why C is at its top), compiled on first use and run as
// a process of its own, so it never competes with the server under test for one event loop.
// Like mosquitto-auth-plug, it opens a new TCP connection for every request and reads only
// the status code.

export const LoadPlan = z
  .strictObject({
    /** Numeric IPv4: the generator does no name lookups. */
    host: z.ipv4(),
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

const LENGTH_BYTES = 4;
/** Compiling one small file takes well under a second; this is for a loaded CI machine. */
const COMPILE_TIMEOUT_MS = 60_000;
const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror'];
/** The run's duration plus the generator's own drain limit (10 s) and start-up, with room. */
const RUN_GRACE_MS = 30_000;
const SOURCE_NAME = 'http-loadgen.c';

/** What the C generator prints; checked, so a change on one side cannot go unnoticed. */
const GeneratorOutput = z.strictObject({
  latencies: z.array(z.number().nonnegative()),
  meanSendLagMs: z.number().nonnegative(),
  statuses: z.record(z.string().regex(/^\d{1,3}$/), z.number().int().positive()),
  errors: z.number().int().nonnegative(),
  sent: z.number().int().nonnegative(),
  distinct: z.number().int().positive(),
});

export function encodeRequests(requests: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];

  for (const request of requests) {
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeUInt32BE(request.length);
    parts.push(length, request);
  }

  return Buffer.concat(parts);
}

// The source sits in test/bench/loadgen/; this module runs from test/bench/lib/ (tests) or
// test/bench/dist/lib/ (benchmarks).
function sourcePath(): string {
  const candidates = ['../loadgen/', '../../loadgen/'].map((folder) =>
    fileURLToPath(new URL(`${folder}${SOURCE_NAME}`, import.meta.url)),
  );
  const found = candidates.find((path) => existsSync(path));

  if (found === undefined) {
    throw new Error(`cannot find ${SOURCE_NAME}; looked at ${candidates.join(', ')}`);
  }

  return found;
}

function compile(source: string, output: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'cc',
      [...CFLAGS, '-o', output, source],
      { timeout: COMPILE_TIMEOUT_MS },
      (error, _stdout, stderr) => {
        if (error === null) {
          resolve();
        } else if (error.code === 'ENOENT') {
          reject(new Error('cannot build the load generator: no C compiler `cc` (install gcc)'));
        } else {
          reject(new Error(`cannot build the load generator: cc failed:\n${stderr}`));
        }
      },
    );
  });
}

// One binary per version of the source, shared by every process on the machine: built under
// a temporary name and renamed into place, so a concurrent build never runs a partial file.
async function buildGenerator(): Promise<string> {
  const source = sourcePath();
  const digest = createHash('sha256')
    .update(await readFile(source))
    .digest('hex')
    .slice(0, 16);
  const binary = join(tmpdir(), `beckon-http-loadgen-${digest}`);

  if (existsSync(binary)) {
    return binary;
  }

  await mkdir(tmpdir(), { recursive: true });
  const partial = `${binary}.${process.pid}.partial`;
  await compile(source, partial);
  await rename(partial, binary);

  return binary;
}

let generator: Promise<string> | undefined;

function generatorBinary(): Promise<string> {
  generator ??= buildGenerator().catch((error: unknown) => {
    generator = undefined;
    throw error;
  });

  return generator;
}

function runGenerator(
  binary: string,
  args: readonly string[],
  timeoutMs: number,
  onStart: ((pid: number) => void) | undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });

    if (child.pid !== undefined) {
      onStart?.(child.pid);
    }

    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) {
        resolve(Buffer.concat(stdout).toString('utf8'));
      } else {
        const reason = Buffer.concat(stderr).toString('utf8').trim();
        reject(
          new Error(
            `the load generator failed (${signal ?? `exit ${String(code)}`})` +
              (reason === '' ? '' : `: ${reason}`),
          ),
        );
      }
    });
  });
}

export interface RunLoadOptions {
  /** Called with the generator's process id once it runs (tests pause it with SIGSTOP). */
  readonly onStart?: (pid: number) => void;
}

/** Runs one plan in the generator's own process and returns what it measured. */
export async function runLoad(plan: LoadPlan, options: RunLoadOptions = {}): Promise<LoadReport> {
  const checked = LoadPlan.parse(plan);
  const binary = await generatorBinary();
  let folder: string | undefined;
  let requestsFile = checked.requestsFile;

  try {
    if (requestsFile === undefined) {
      folder = await mkdtemp(join(tmpdir(), 'beckon-loadgen-'));
      requestsFile = join(folder, 'requests.bin');
      const requests = (checked.requests ?? []).map((request) => Buffer.from(request, 'base64'));
      await writeFile(requestsFile, encodeRequests(requests));
    }

    const output = await runGenerator(
      binary,
      [
        checked.host,
        String(checked.port),
        requestsFile,
        checked.mode,
        String(checked.concurrency),
        String(checked.rate ?? 0),
        String(checked.durationMs),
        String(checked.warmupMs),
      ],
      checked.warmupMs + checked.durationMs + RUN_GRACE_MS,
      options.onStart,
    );
    const report = GeneratorOutput.parse(JSON.parse(output));

    return { ...report, seconds: checked.durationMs / 1_000 };
  } finally {
    if (folder !== undefined) {
      await rm(folder, { recursive: true, force: true });
    }
  }
}
