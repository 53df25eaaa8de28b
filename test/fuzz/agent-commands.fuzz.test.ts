import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedBroker, type EmbeddedBroker } from '@beckon/local';
import { RESULT_ERROR_CODES, type Command, type Result } from '@beckon/shared';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type RunningAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { RawApp } from '../reliability/support/raw-app.js';
import { recordAction, writeRecorder, type Recorder } from '../reliability/support/recorder.js';
import { FUZZ_TIMEOUT_MS, NETWORK_FUZZ_RUNS } from './runs.js';

// A real agent behind the real broker path, with an action that records every run, receives
// random payloads on its commands topic from an app that may publish there. Every payload
// must be answered with a refusal carrying a contract error code, and nothing may ever run.

const AGENT = 'fz-agent-01';
/**
 * Longer than any run, so every delivery reuses one decision: this suite is about the agent,
 * not the broker's read checks (test/reliability/embedded-broker-read-cache.test.ts is).
 */
const READ_CACHE_MS = 3_600_000;

let auth: RunningAuth;
let broker: EmbeddedBroker;
let agent: RunningAgent;
let app: RawApp;
let recorder: Recorder;
let folder: string;
let credential: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'beckon-fuzz-agent-'));
  recorder = await writeRecorder(folder);
  auth = await startAuth();
  broker = await startEmbeddedBroker({
    checks: auth.plug,
    logger: pino({ level: 'silent' }),
    port: 0,
    readCacheMs: READ_CACHE_MS,
  });
  agent = await startTestAgent(auth, AGENT, {
    brokerUrl: broker.url,
    actions: recordAction(recorder),
  });
  app = await RawApp.grantedTo(auth, broker.url, 'fz-sender', AGENT);
  credential = await app.credential();
});

afterAll(async () => {
  await app.close();
  await agent.stop();
  await broker.close();
  await auth.close();
  await rm(folder, { recursive: true, force: true });
});

/** Publishes one payload and returns the one result it produced. */
async function answerTo(payload: string | Buffer): Promise<Result> {
  const before = app.results.length;
  await app.publish(AGENT, payload);
  await app.waitForResult(() => app.results.length > before);

  return app.results[before] as Result;
}

function expectRefusal(result: Result): void {
  expect(['rejected', 'expired']).toContain(result.outcome);
  expect(RESULT_ERROR_CODES).toContain(result.error?.code);
  expect(result.timings.startedAt).toBeUndefined();
}

const FIELDS = [
  'kind',
  'id',
  'agentId',
  'action',
  'args',
  'issuer',
  'issuedAt',
  'expiresAt',
  'auth',
  'replyTo',
  'progress',
  'correlationData',
  'extra',
];

describe('a running agent under random command payloads', () => {
  it(
    'refuses arbitrary bytes and JSON with a coded result, running nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ maxLength: 1_024 }).map((bytes) => Buffer.from(bytes)),
            fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
          ),
          async (payload) => {
            expectRefusal(await answerTo(payload));
          },
        ),
        { numRuns: NETWORK_FUZZ_RUNS },
      );

      expect(await recorder.lines()).toEqual([]);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'refuses a validly signed command with any one field changed after signing',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...FIELDS),
          fc.jsonValue({ maxDepth: 3 }),
          fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
          async (field, replacement, token) => {
            const signed = await app.sign(app.command(AGENT, 'record', { id: token }), credential);
            const original = (signed as unknown as Record<string, unknown>)[field];
            fc.pre(JSON.stringify(original) !== JSON.stringify(replacement));
            const mutated: Record<string, unknown> = { ...signed, [field]: replacement };
            const result = await answerTo(JSON.stringify(mutated));

            expectRefusal(result);
            // Refused under its own id whenever the id survived the change.
            if (field !== 'id') {
              expect([signed.id, null]).toContain(result.commandId);
            }
          },
        ),
        { numRuns: NETWORK_FUZZ_RUNS },
      );

      expect(await recorder.lines()).toEqual([]);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'refuses unsigned commands whatever arguments they carry',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), {
            maxKeys: 3,
          }),
          async (args) => {
            const command = app.command(AGENT, 'record', args as Command['args']) as Command;

            expectRefusal(await answerTo(JSON.stringify(command)));
          },
        ),
        { numRuns: NETWORK_FUZZ_RUNS },
      );

      expect(await recorder.lines()).toEqual([]);
    },
    FUZZ_TIMEOUT_MS,
  );
});
