import { describe, expect, it } from 'vitest';
import {
  classify,
  microsecondsPerMessage,
  newestMapEntries,
  SampleCounter,
} from '../lib/perf-breakdown.js';

// The profile breakdown in docs/performance.md comes from this classifier, so what it charges
// where is pinned here, on stacks in the exact shape `perf script -F tid,ip,sym` prints.

const MAIN = 4242;
const WORKER = 4247;

function sample(tid: number, frames: readonly string[]): string {
  return [
    `${tid} `,
    ...frames.map((frame, index) => `\t    ${(0x1000 + index).toString(16)} ${frame}`),
    '',
  ].join('\n');
}

const VERIFY = [
  'fe_mul',
  'ossl_ed25519_verify',
  'node::crypto::SignTraits::DeriveBits',
  'Builtins_CallApiCallback',
  'JS:*verifyDetached file:///work/main/shared/dist/detached-jws.js:65:31',
  'JS:*verifyMessage file:///work/main/shared/dist/signing.js:269:36',
  'uv_run',
];
const PIPELINE_PARSE = [
  'v8::internal::JsonParser<unsigned char>::ParseJson',
  'v8::internal::Builtin_JsonParse',
  'JS:*handle file:///work/main/agent/dist/pipeline/command-pipeline.js:80:17',
  'JS:*handlePublish /work/main/node_modules/.pnpm/mqtt@5.16.0/node_modules/mqtt/build/lib/handlers/publish.js:19:23',
];
const IC_MISS_IN_PIPELINE = [
  'v8::internal::StoreIC::Store',
  'v8::internal::Runtime_DefineNamedOwnIC_Miss',
  'Builtins_CEntry_Return1_ArgvOnStack_NoBuiltinExit',
  'JS:*#answerBuiltIn file:///work/main/agent/dist/pipeline/command-pipeline.js:326:25',
];
const SOCKET_WRITE = [
  'tcp_sendmsg',
  '__GI___writev',
  'node::StreamBase::Writev',
  'JS:*uncork node:internal/streams/writable:512:18',
];
const ZOD_GENERATED = [
  'Builtins_LoadIC_Megamorphic',
  'JS:* :3:17',
  'JS:*safeParse file:///work/main/node_modules/.pnpm/zod@4.6.7/node_modules/zod/v4/classic/schemas.js:140:14',
];
const SCAVENGE_IN_ZOD = [
  'v8::internal::Scavenger::ScavengePage',
  'v8::internal::Heap::CollectGarbage',
  'JS:*inst._zod.parse file:///work/main/node_modules/.pnpm/zod@4.6.7/node_modules/zod/v4/core/schemas.js:1199:23',
];

describe('classify', () => {
  it('charges the signature maths to OpenSSL, not to the JavaScript that asked for it', () => {
    expect(classify(VERIFY)).toBe('signature maths (OpenSSL)');
  });

  it('charges a runtime helper with no bucket of its own to the JavaScript that called it', () => {
    expect(classify(IC_MISS_IN_PIPELINE)).toBe('agent: pipeline, results');
  });

  it('keeps JSON.parse, socket writes and GC apart from their callers', () => {
    expect(classify(PIPELINE_PARSE)).toBe('JSON.parse');
    expect(classify(SOCKET_WRITE)).toBe('socket write (writev)');
    expect(classify(SCAVENGE_IN_ZOD)).toBe('garbage collection');
  });

  it("names zod's generated parsers, which have no file, as zod", () => {
    expect(classify(ZOD_GENERATED)).toBe('zod');
  });

  it('names the module of JavaScript it has no bucket for, and native code with no JavaScript', () => {
    expect(classify(['JS:~emit node:events:471:44', 'uv_run'])).toBe('other JavaScript');
    expect(classify(['finish_task_switch.isra.0', 'schedule', 'uv_run'])).toBe(
      'other native (runtime, libc, kernel)',
    );
  });
});

describe('SampleCounter', () => {
  it('counts one thread by bucket, across samples separated by blank lines', () => {
    const counter = new SampleCounter();
    const text = [
      sample(MAIN, VERIFY),
      sample(MAIN, VERIFY),
      sample(MAIN, PIPELINE_PARSE),
      sample(WORKER, SCAVENGE_IN_ZOD),
      sample(MAIN, SOCKET_WRITE),
    ].join('\n');

    for (const line of text.split('\n')) {
      counter.add(line);
    }

    expect(Object.fromEntries(counter.thread(MAIN))).toEqual({
      'signature maths (OpenSSL)': 2,
      'JSON.parse': 1,
      'socket write (writev)': 1,
    });
    expect(Object.fromEntries(counter.thread(WORKER))).toEqual({ 'garbage collection': 1 });
  });

  it('reads a thread id that perf right-aligned with spaces as a header, not a frame', () => {
    const counter = new SampleCounter();
    const text = [sample(MAIN, VERIFY), sample(MAIN, SOCKET_WRITE)].join('\n');

    // perf script prints a thread id in five columns: ' 4242 ' for this one.
    for (const line of text.split('\n')) {
      counter.add(line.startsWith(`${MAIN} `) ? ` ${line}` : line);
    }

    expect(Object.fromEntries(counter.thread(MAIN))).toEqual({
      'signature maths (OpenSSL)': 1,
      'socket write (writev)': 1,
    });
  });

  it('counts the last sample even without a blank line after it', () => {
    const counter = new SampleCounter();

    for (const line of sample(MAIN, VERIFY).trimEnd().split('\n')) {
      counter.add(line);
    }

    expect(Object.fromEntries(counter.thread(MAIN))).toEqual({
      'signature maths (OpenSSL)': 1,
    });
  });

  it('refuses a thread it has no samples of rather than report nothing as zero', () => {
    const counter = new SampleCounter();
    counter.add(`${WORKER} `);

    expect(() => counter.thread(MAIN)).toThrow(/no samples of thread 4242 \(threads: none\)/);
  });
});

describe('microsecondsPerMessage', () => {
  it('turns samples at a frequency into CPU time per message', () => {
    expect(microsecondsPerMessage(4_999, 4_999, 1_000)).toBe(1_000);
    expect(microsecondsPerMessage(500, 5_000, 1_000)).toBeCloseTo(100, 10);
  });
});

describe('newestMapEntries', () => {
  it('keeps the newest name where code was placed over dead code', () => {
    const map = [
      '1000 100 Builtin:RecordWriteSaveFP',
      '2000 200 JS:~ file:///app/node_modules/pino/lib/caller.js:1:1',
      '3000 100 JS:~loadConfig file:///app/config.js:10:1',
      '2000 80 JS:*verifyMessage file:///app/signing.js:269:36',
      '2080 40 JS:*canonicalJson file:///app/signing.js:77:30',
      '',
    ].join('\n');

    expect(newestMapEntries(map).split('\n')).toEqual([
      '1000 100 Builtin:RecordWriteSaveFP',
      '2000 80 JS:*verifyMessage file:///app/signing.js:269:36',
      '2080 40 JS:*canonicalJson file:///app/signing.js:77:30',
      '3000 100 JS:~loadConfig file:///app/config.js:10:1',
      '',
    ]);
  });

  it('drops an older entry that a newer one only partly covers, and keeps neighbours', () => {
    const map = ['10 20 old', '30 10 next', '0 18 newer', ''].join('\n');

    expect(newestMapEntries(map)).toBe(['0 18 newer', '30 10 next', ''].join('\n'));
  });

  it('passes over lines that are not entries', () => {
    expect(newestMapEntries('garbage\n\n10 4 name with spaces\n')).toBe('10 4 name with spaces\n');
  });
});
