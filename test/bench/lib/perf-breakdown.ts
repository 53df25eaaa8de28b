// Where a process's CPU time went, from `perf script -F tid,ip,sym` of a `perf record -g`
// taken with Node's --perf-basic-prof (so JIT code carries its JavaScript function's name).
// V8's own CPU profile saw only about half of the agent's main-thread time per ping: it does
// not see the kernel side of its system calls, nor much of the runtime (IC misses, microtask
// machinery, GC) outside a JavaScript frame. A sample here is charged to the innermost frame
// that is either a known native cost (the signature maths, GC, a system call) or JavaScript,
// whose module then names the bucket, so native helpers count towards the code that called
// them.

/** One bucket, matched against a frame's symbol. */
interface Category {
  readonly name: string;
  readonly native?: RegExp;
  readonly js?: RegExp;
}

/** The innermost frame wins; within a frame the first category listed that matches. */
const CATEGORIES: readonly Category[] = [
  {
    name: 'signature maths (OpenSSL)',
    native: /ed25519|^fe_|^ge_|^x25519|SignTraits|ecp_nistz256|ecdsa|^sha512_block/,
  },
  {
    name: 'garbage collection',
    native: /Scavenge|MarkCompact|Sweeper|ConcurrentMarking|IncrementalMarking|MinorMarkSweep/,
  },
  { name: 'socket write (writev)', native: /^__GI___writev$|^writev$/ },
  { name: 'file write (journal, logs)', native: /^__GI___libc_write$|^__libc_write$|^write$/ },
  { name: 'socket read', native: /^__GI___libc_read$|^read$/ },
  { name: 'epoll_pwait', native: /^epoll_pwait$/ },
  { name: 'JSON.parse', native: /JsonParse/ },
  { name: 'JSON.stringify', native: /JsonStringif/ },
  { name: 'Date (parse, format)', native: /Date(Parser|Constructor|Prototype|Parse)|ToDateString/ },
  { name: 'zod', js: /\/zod@|^ :\d+:\d+$/ },
  { name: 'MQTT.js, mqtt-packet, bl', js: /\/(mqtt|mqtt-packet|bl)@/ },
  {
    name: 'Node streams and net',
    js: /node:internal\/streams|stream_base|^node:net|readable-stream@/,
  },
  { name: 'Node buffers and encoding', js: /node:buffer|node:internal\/(buffer|encoding)/ },
  { name: 'timers, ticks, promises', js: /node:internal\/(timers|process)|node:timers/ },
  { name: 'shared: signing, JWS', js: /shared\/(dist|src)\/(signing|detached-jws)\./ },
  { name: 'shared: other', js: /shared\/(dist|src)\// },
  { name: 'agent: pipeline, results', js: /agent\/(dist|src)\/pipeline\// },
  { name: 'agent: journal', js: /agent\/(dist|src)\/state\/|node:fs/ },
  { name: 'agent: other', js: /agent\/(dist|src)\// },
  { name: 'client', js: /client\/(dist|src)\// },
  { name: 'benchmark code', js: /test\/bench\/(dist|src)\// },
  { name: 'pino', js: /\/pino@/ },
];
const OTHER_JS = 'other JavaScript';
const OTHER_NATIVE = 'other native (runtime, libc, kernel)';
/** `JS:*name file:line:col`: the tier mark (`*` optimised, `~` interpreted, `^` baseline). */
const JS_FRAME = /^JS:[*~^+]?/;

/** The bucket one sample belongs to; `frames` are symbols, innermost first. */
export function classify(frames: readonly string[]): string {
  for (const frame of frames) {
    const isJs = JS_FRAME.test(frame);
    const name = isJs ? frame.replace(JS_FRAME, '') : frame;

    for (const category of CATEGORIES) {
      const pattern = isJs ? category.js : category.native;

      if (pattern?.test(name) === true) {
        return category.name;
      }
    }

    if (isJs) {
      return OTHER_JS;
    }
  }

  return OTHER_NATIVE;
}

/**
 * Counts samples per thread and bucket while `perf script` output streams in, one line at a
 * time, so a profile of millions of frames never sits in memory as text.
 */
export class SampleCounter {
  readonly #byThread = new Map<number, Map<string, number>>();
  #tid: number | undefined;
  #frames: string[] = [];

  /** One line of `perf script -F tid,ip,sym` output, without its line break. */
  add(line: string): void {
    if (line.trim() === '') {
      this.#flush();
      return;
    }

    // A sample's header is its thread id, right-aligned in five columns (so a short id starts
    // with spaces); its frames follow, each a tab-indented address and symbol.
    if (!line.startsWith('\t')) {
      this.#flush();
      const tid = Number(line.trim().split(/\s+/)[0]);
      this.#tid = Number.isSafeInteger(tid) ? tid : undefined;
      return;
    }

    const frame = /^\s+[0-9a-f]+\s+(.*)$/.exec(line);

    if (frame?.[1] !== undefined) {
      this.#frames.push(frame[1]);
    }
  }

  /**
   * Counts per bucket of one thread; a process's main thread has the process's id as its
   * thread id, and that is where a Node process runs its JavaScript.
   */
  thread(tid: number): ReadonlyMap<string, number> {
    this.#flush();
    const samples = this.#byThread.get(tid);

    if (samples === undefined) {
      const seen = [...this.#byThread.keys()].join(', ') || 'none';
      throw new Error(`the perf script output held no samples of thread ${tid} (threads: ${seen})`);
    }

    return samples;
  }

  #flush(): void {
    if (this.#tid !== undefined && this.#frames.length > 0) {
      const counts = this.#byThread.get(this.#tid) ?? new Map<string, number>();
      const bucket = classify(this.#frames);

      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
      this.#byThread.set(this.#tid, counts);
    }

    this.#tid = undefined;
    this.#frames = [];
  }
}

export function sum(values: Iterable<number>): number {
  let total = 0;

  for (const value of values) {
    total += value;
  }

  return total;
}

/** Samples at `frequencyHz` turned into microseconds of CPU per message. */
export function microsecondsPerMessage(
  samples: number,
  frequencyHz: number,
  messages: number,
): number {
  return (samples / frequencyHz / messages) * 1_000_000;
}

interface MapEntry {
  readonly start: bigint;
  readonly end: bigint;
  readonly line: string;
}

/**
 * A --perf-basic-prof symbol map with every entry that a later one overlaps removed. V8
 * appends a line each time it places code, and code space freed by the garbage collector is
 * reused, so one address can carry a dead function's name (often a module's top level, run
 * once at start-up) before the live one's; perf then picks a name by its own rules and the
 * profile charges hot code to modules that ran once. The code that ran while perf recorded
 * is the newest at its address, so the newest entry wins.
 */
export function newestMapEntries(text: string): string {
  // Non-overlapping entries sorted by start address.
  const kept: MapEntry[] = [];

  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) /i.exec(line);

    if (match?.[1] === undefined || match[2] === undefined) {
      continue;
    }

    const start = BigInt(`0x${match[1]}`);
    const end = start + BigInt(`0x${match[2]}`);
    const low = firstEndingAfter(kept, start);
    let high = low;

    while (high < kept.length && (kept[high]?.start ?? end) < end) {
      high += 1;
    }

    kept.splice(low, high - low, { start, end, line });
  }

  return kept.map((entry) => `${entry.line}\n`).join('');
}

// The index of the first entry that ends after `address` (binary search on sorted entries).
function firstEndingAfter(entries: readonly MapEntry[], address: bigint): number {
  let low = 0;
  let high = entries.length;

  while (low < high) {
    const middle = (low + high) >>> 1;

    if ((entries[middle]?.end ?? 0n) <= address) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }

  return low;
}
