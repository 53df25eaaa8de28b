import { writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ActionName,
  AppId,
  CLOCK_TOLERANCE_SECONDS,
  CommandId,
  Result,
  Timestamp,
} from '@beckon/shared';
import { z } from 'zod';
import { syncFolder } from '../enroll/credentials-file.js';
import type { Logger } from '../logger.js';

// The agent's memory of commands, on disk, so that neither a redelivered QoS 1 message nor a
// restart ever runs an action twice.
//
// Format: an append-only journal of JSON lines. A command is written as `accepted` before
// anything runs, its `result` before it is published, and `published` once the broker
// acknowledged it. A crash between the steps leaves enough on disk to finish the job:
// accepted without result = interrupted mid-action; result without published = publish again.
//
// What must survive what, and so when a write is synced (an fdatasync costs about 0.27 ms on
// the benchmark machine's disk, and the command's PUBACK waits for it):
// - A write() that returned is in the kernel's page cache and survives the agent's own crash
//   (SIGKILL, an uncaught fault); only a sync makes it survive a machine crash or power loss.
// - A side-effecting action (a configured program) must never run twice and its outcome must
//   never be misreported. So its `accepted` line is synced before it starts (otherwise a
//   power loss after the PUBACK forgets the id, and a replayed copy would run it again), and
//   its `result` line is synced before the result is published (otherwise a power loss after
//   publishing would turn a finished run into `interrupted`: a second, contradicting result).
// - A refusal after acceptance (unknown action, bad arguments, no capacity) is synced too:
//   a forgotten refusal could let a later copy of the same command run after all.
// - A built-in (ping, describe) changes nothing on the machine: running it twice is harmless
//   and so is publishing its result twice. Its `accepted` and `result` lines are written in
//   one unsynced append (`acceptAnswered`) before the PUBACK, so an agent crash still finds
//   the id and the result; a power loss may forget them, and then a redelivered copy is only
//   answered again, which is the answer a lost ping deserves anyway.
// `published` is never synced: losing it only means the result is published once more, which
// receivers treat as a duplicate.
//
// Bound: an id must be remembered for as long as a copy of its command could still be run,
// and a command can only run before its expiresAt. So an entry is kept until its expiresAt
// (plus the clock tolerance) has passed and its result is published; after that the expiry
// check refuses any copy, whatever the broker's session expiry. On top of that at most
// `maxEntries` live ids are kept; when that many unexpired ids are held the store refuses new
// ones (the pipeline answers `unavailable`) rather than forget an id that could still run.

export const JOURNAL_FILE = 'commands.journal';
export const DEFAULT_MAX_ENTRIES = 100_000;
const CLOCK_TOLERANCE_MS = CLOCK_TOLERANCE_SECONDS * 1_000;
/** Rewrite the journal once it holds this many lines and at least 4x the live entries. */
const COMPACT_MIN_LINES = 1_000;
const COMPACT_RATIO = 4;

const Hash = z.string().regex(/^[0-9a-f]{64}$/);

const AcceptedRecord = z.strictObject({
  t: z.literal('accepted'),
  id: CommandId,
  /** SHA-256 of the payload as received: tells a redelivery from a reused id. */
  hash: Hash,
  expiresAt: Timestamp,
  receivedAt: Timestamp,
  action: ActionName,
  issuer: AppId,
  replyTo: z.string().max(1_024).optional(),
  correlationData: z.string().max(256).optional(),
});

const ResultRecord = z.strictObject({ t: z.literal('result'), id: CommandId, result: Result });
const PublishedRecord = z.strictObject({ t: z.literal('published'), id: CommandId });
const JournalRecord = z.discriminatedUnion('t', [AcceptedRecord, ResultRecord, PublishedRecord]);

type AcceptedRecord = z.infer<typeof AcceptedRecord>;
type JournalRecord = z.infer<typeof JournalRecord>;

export type CommandRecord = Omit<AcceptedRecord, 't'>;

export interface StoredCommand extends CommandRecord {
  result?: Result;
  published: boolean;
}

interface Batch {
  readonly lines: string[];
  durable: boolean;
  written: Promise<void>;
}

export class StoreFullError extends Error {
  override readonly name = 'StoreFullError';
}

export interface ReplayStoreOptions {
  readonly maxEntries?: number;
  readonly logger: Logger;
  /** Injected by tests that need to move time. */
  readonly now?: () => number;
}

export class ReplayStore {
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, StoredCommand>();
  #handle: FileHandle | undefined;
  #lines = 0;
  #tail: Promise<void> = Promise.resolve();
  /** Steps queued on `#tail` that have not finished. */
  #queued = 0;
  /** Records waiting for the write in progress to finish; see `#append`. */
  #batch: Batch | undefined;

  private constructor(dir: string, options: ReplayStoreOptions) {
    this.#dir = dir;
    this.#logger = options.logger;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#now = options.now ?? Date.now;
  }

  /** Opens (creating) the store in `dir`, replays its journal and compacts it. */
  static async open(dir: string, options: ReplayStoreOptions): Promise<ReplayStore> {
    const store = new ReplayStore(dir, options);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await store.#load();
    await store.#compact();

    return store;
  }

  get size(): number {
    return this.#entries.size;
  }

  lookup(id: string): Readonly<StoredCommand> | undefined {
    return this.#entries.get(id);
  }

  /** Commands that need finishing after a restart: no result yet, or a result not published. */
  unfinished(): readonly Readonly<StoredCommand>[] {
    return [...this.#entries.values()].filter((entry) => !entry.published);
  }

  /** Records a command as accepted, durably, before it runs. Throws StoreFullError. */
  async accept(record: CommandRecord): Promise<void> {
    this.#reserve(record.id);
    this.#entries.set(record.id, withCommand({ published: false }, record));

    try {
      await this.#append([withCommand({ t: 'accepted' as const }, record)], true);
    } catch (error) {
      // Not on disk means not accepted: the caller answers and nothing runs.
      this.#entries.delete(record.id);
      throw error;
    }
  }

  /**
   * Records a command together with its result, written but not synced, for a built-in with
   * no side effects (see the top of this file). The entry exists as soon as this returns, so
   * a redelivery is recognised at once; the promise settles when the lines are written.
   * Throws StoreFullError synchronously.
   */
  acceptAnswered(record: CommandRecord, result: Result): Promise<void> {
    this.#reserve(record.id);
    this.#entries.set(record.id, withCommand({ result, published: false }, record));

    return this.#append(
      [withCommand({ t: 'accepted' as const }, record), { t: 'result', id: record.id, result }],
      false,
    );
  }

  /** Records the result, durably, before it is published. */
  async recordResult(id: string, result: Result): Promise<void> {
    const entry = this.#entries.get(id);

    if (entry === undefined) {
      throw new Error(`command ${id} was never accepted`);
    }

    entry.result = result;
    await this.#append([{ t: 'result', id, result }], true);
  }

  /**
   * Marks the result as acknowledged by the broker. Not fsynced: losing this line in a crash
   * only means the same result is published once more, which receivers treat as a duplicate.
   */
  async markPublished(id: string): Promise<void> {
    const entry = this.#entries.get(id);

    if (entry === undefined || entry.published) {
      return;
    }

    entry.published = true;
    await this.#append([{ t: 'published', id }], false);
    await this.#maybeCompact();
  }

  #reserve(id: string): void {
    if (this.#entries.has(id)) {
      throw new Error(`command ${id} is already recorded`);
    }

    if (this.#entries.size >= this.#maxEntries) {
      this.#prune();
    }

    if (this.#entries.size >= this.#maxEntries) {
      throw new StoreFullError(`the replay store holds ${this.#maxEntries} unexpired command ids`);
    }
  }

  async close(): Promise<void> {
    await this.#enqueue(async () => {
      await this.#handle?.close();
      this.#handle = undefined;
    });
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#queued += 1;
    const next = this.#tail.then(step).finally(() => {
      this.#queued -= 1;
    });
    // The chain must survive a failed step so that later writes still run in order.
    this.#tail = next.catch(() => undefined);

    return next;
  }

  /**
   * Group commit: records appended while an earlier write or sync is under way join one batch,
   * written at once and synced once (when any of them must be durable), and each caller hears
   * back only after that. One sync per command in flight serialised 100 concurrent commands
   * behind each other's fsyncs (round-trip benchmark: about 300 commands/s).
   */
  #append(records: readonly JournalRecord[], durable: boolean): Promise<void> {
    // Lines that need no sync, with nothing queued ahead of them, are written at once: a
    // page-cache write takes microseconds in the calling thread, where the promise API's trip
    // through the thread pool cost about 30 us and split the built-in's result and its PUBACK
    // into two socket writes. With something queued they join the batch, to keep the order.
    if (!durable && this.#queued === 0) {
      return this.#writeNow(records);
    }

    const batch = this.#batch ?? this.#startBatch();

    for (const record of records) {
      batch.lines.push(`${JSON.stringify(record)}\n`);
    }

    batch.durable ||= durable;

    return batch.written;
  }

  #writeNow(records: readonly JournalRecord[]): Promise<void> {
    const handle = this.#handle;

    if (handle === undefined) {
      return Promise.reject(new Error('the replay store is closed'));
    }

    try {
      const bytes = Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      let offset = 0;

      while (offset < bytes.length) {
        offset += writeSync(handle.fd, bytes, offset);
      }

      this.#lines += records.length;

      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #startBatch(): Batch {
    const batch: Batch = { lines: [], durable: false, written: Promise.resolve() };

    this.#batch = batch;
    batch.written = this.#enqueue(async () => {
      // From here on, appends start the next batch.
      this.#batch = undefined;

      const handle = this.#handle;

      if (handle === undefined) {
        throw new Error('the replay store is closed');
      }

      await handle.write(batch.lines.join(''));
      this.#lines += batch.lines.length;

      if (batch.durable) {
        await handle.datasync();
      }
    });

    return batch;
  }

  async #load(): Promise<void> {
    let text = '';

    try {
      text = await readFile(join(this.#dir, JOURNAL_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw error;
      }
    }

    const lines = text.split('\n').filter((line) => line !== '');

    lines.forEach((line, index) => {
      const record = parseLine(line);

      if (record === undefined) {
        // A crash can tear the last line; anything else unreadable is reported and skipped.
        const torn = index === lines.length - 1;
        this.#logger[torn ? 'warn' : 'error'](
          { line: index + 1, file: JOURNAL_FILE },
          torn ? 'journal ends in a torn line' : 'journal line unreadable',
        );
        return;
      }

      this.#apply(record);
    });
  }

  #apply(record: JournalRecord): void {
    switch (record.t) {
      case 'accepted': {
        const { t: _t, ...command } = record;
        this.#entries.set(record.id, { ...command, published: false });
        return;
      }
      case 'result': {
        const entry = this.#entries.get(record.id);

        if (entry !== undefined) {
          entry.result = record.result;
        }
        return;
      }
      case 'published': {
        const entry = this.#entries.get(record.id);

        if (entry !== undefined) {
          entry.published = true;
        }
        return;
      }
    }
  }

  #prune(): void {
    const now = this.#now();

    for (const [id, entry] of this.#entries) {
      if (entry.published && Date.parse(entry.expiresAt) + CLOCK_TOLERANCE_MS < now) {
        this.#entries.delete(id);
      }
    }
  }

  async #maybeCompact(): Promise<void> {
    if (this.#lines >= COMPACT_MIN_LINES && this.#lines >= COMPACT_RATIO * this.#entries.size) {
      await this.#compact();
    }
  }

  // Write-temp-then-rename: at every instant the journal on disk is either the old one or the
  // complete new one.
  #compact(): Promise<void> {
    return this.#enqueue(async () => {
      this.#prune();

      const path = join(this.#dir, JOURNAL_FILE);
      const temp = `${path}.tmp`;
      const lines = [...this.#entries.values()].flatMap((entry) => snapshotLines(entry));
      const tempHandle = await open(temp, 'w', 0o600);

      try {
        await tempHandle.writeFile(lines.map((line) => `${line}\n`).join(''));
        await tempHandle.sync();
      } finally {
        await tempHandle.close();
      }

      await this.#handle?.close();
      await rename(temp, path);
      await syncFolder(this.#dir);
      this.#handle = await open(path, 'a', 0o600);
      this.#lines = lines.length;
    });
  }
}

function parseLine(line: string): JournalRecord | undefined {
  try {
    const parsed = JournalRecord.safeParse(JSON.parse(line));

    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `target` with a command's fields copied onto it one by one. Spreading the record into a new
 * literal missed V8's inline caches on ping's hot path (perf, 2026-12-04: about 7 us of the
 * agent's CPU per command between the entry and the journal line). Absent fields stay absent.
 */
function withCommand<T extends object>(target: T, record: CommandRecord): T & CommandRecord {
  const out = target as T & CommandRecord;

  out.id = record.id;
  out.hash = record.hash;
  out.expiresAt = record.expiresAt;
  out.receivedAt = record.receivedAt;
  out.action = record.action;
  out.issuer = record.issuer;

  if (record.replyTo !== undefined) {
    out.replyTo = record.replyTo;
  }

  if (record.correlationData !== undefined) {
    out.correlationData = record.correlationData;
  }

  return out;
}

function snapshotLines(entry: StoredCommand): string[] {
  const { result, published, ...command } = entry;
  const lines = [JSON.stringify({ t: 'accepted', ...command })];

  if (result !== undefined) {
    lines.push(JSON.stringify({ t: 'result', id: entry.id, result }));
  }

  if (published) {
    lines.push(JSON.stringify({ t: 'published', id: entry.id }));
  }

  return lines;
}
