// ReadModel: the CQRS read side of a Ledger. A projector loop on the caller's thread (not the
// shards') reads each shard's durable events in batches through `ledger.readEvents` and applies
// them to a SQLite file (projector.ts); queries (queries.ts) report the watermark they reflect,
// and `waitFor` gives read-your-writes with a timeout.

import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerError, isLedgerError, limits } from '@shardledger/ledger-core';
import { Ledger } from '../ledger.js';
import { Projector, type SequencedLedgerEvent, type Watermark } from './projector.js';
import { openReadModelDb, type ReadModelDb } from './read-model-db.js';
import {
  accountsOf,
  balanceAsOfTime,
  currencyTotalsOf,
  statementOf,
  transfersByMetadata,
  transfersOf,
  watermarksOf,
  type StatementOptions,
} from './queries.js';

export const readModelFileName = 'read-model.sqlite';

export interface ReadModelOptions {
  /** Project this open ledger (the caller keeps owning it)... */
  readonly ledger?: Ledger;
  /** ...or open the ledger in this dir (owned: closed by `close`). One of the two is required. */
  readonly dir?: string;
  /** The SQLite file (default `<ledger dir>/read-model.sqlite`). */
  readonly path?: string;
  /** Events read from a shard and applied in one transaction (default limits.batchSizeMax). */
  readonly batchSizeEvents?: number;
  /** Pause between polls when every shard is caught up (default 5 ms). */
  readonly pollIntervalMs?: number;
  /** Start following the logs at once (default true); otherwise project on `catchUp`/`waitFor`. */
  readonly follow?: boolean;
}

/** A position in one shard's log: what `waitFor` waits for. */
export interface LogPosition {
  readonly shard: number;
  readonly sequence: number;
}

export type WaitTarget = 'latest' | LogPosition | readonly LogPosition[] | { readonly watermark: readonly LogPosition[] };

export interface ShardLag {
  readonly shard: number;
  readonly projectedSequence: number;
  readonly ledgerSequence: number;
  readonly lagEvents: number;
  /** Age of the oldest event not yet projected (0 when caught up). */
  readonly lagMs: number;
}

const NANOS_PER_MS = 1_000_000n;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class ReadModel {
  readonly path: string;
  readonly ledger: Ledger;
  readonly #ownsLedger: boolean;
  readonly #batchSizeEvents: number;
  readonly #pollIntervalMs: number;
  #db: ReadModelDb;
  #projector: Projector;
  #marks: Watermark[];
  #following = false;
  #loop: Promise<void> | null = null;
  #step: Promise<number> | null = null;
  #wake: (() => void) | null = null;
  #progress = new Set<() => void>();
  #failure: unknown = null;
  #closed = false;

  private constructor(options: { ledger: Ledger; ownsLedger: boolean; path: string; db: ReadModelDb; batchSizeEvents: number; pollIntervalMs: number }) {
    this.ledger = options.ledger;
    this.#ownsLedger = options.ownsLedger;
    this.path = options.path;
    this.#db = options.db;
    this.#projector = new Projector(options.db);
    this.#marks = ReadModel.#marksOf(this.#projector, options.ledger.shards);
    this.#batchSizeEvents = options.batchSizeEvents;
    this.#pollIntervalMs = options.pollIntervalMs;
  }

  static async open(options: ReadModelOptions): Promise<ReadModel> {
    if ((options.ledger === undefined) === (options.dir === undefined)) {
      throw new LedgerError('INVALID_ARGUMENT', { options: 'exactly one of ledger and dir' });
    }
    const batchSizeEvents = options.batchSizeEvents ?? limits.batchSizeMax;
    const pollIntervalMs = options.pollIntervalMs ?? 5;
    if (!Number.isSafeInteger(batchSizeEvents) || batchSizeEvents < 1 || batchSizeEvents > limits.batchSizeMax) {
      throw new LedgerError('INVALID_ARGUMENT', { batchSizeEvents: `1 to ${limits.batchSizeMax}` });
    }
    const ownsLedger = options.ledger === undefined;
    const ledger = options.ledger ?? (await Ledger.open({ dir: options.dir as string }));
    try {
      const path = options.path ?? join(ledger.dir, readModelFileName);
      const db = await ReadModel.#openFor(ledger, path);
      const model = new ReadModel({ ledger, ownsLedger, path, db, batchSizeEvents, pollIntervalMs });
      if (options.follow ?? true) model.follow();
      return model;
    } catch (error) {
      if (ownsLedger) await ledger.close();
      throw error;
    }
  }

  /** Opens the file and checks that it projects this ledger (manifest hash and shard count). */
  static async #openFor(ledger: Ledger, path: string): Promise<ReadModelDb> {
    const info = await ledger.info();
    const db = openReadModelDb({ path, readonly: false });
    const identity = `${info.hash}/${info.shards}`;
    const row = db.prepare("SELECT value FROM meta WHERE key = 'ledger'").get() as { value: string } | undefined;
    if (row === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('ledger', ?)").run(identity);
    } else if (row.value !== identity) {
      db.close();
      throw new LedgerError('INVALID_ARGUMENT', { path, ledger: 'the file projects another ledger' });
    }
    return db;
  }

  static #marksOf(projector: Projector, shards: number): Watermark[] {
    const stored = projector.watermarks();
    return Array.from({ length: shards }, (_, shard) => stored.get(shard) ?? { shard, sequence: 0, timestamp: 0n });
  }

  /** Per shard, the last projected event (what every query result also carries). */
  watermark(): readonly Watermark[] {
    return this.#marks.slice();
  }

  /** Starts the loop that follows every shard's log (idempotent). */
  follow(): void {
    this.#ensureOpen();
    if (this.#following) return;
    this.#following = true;
    this.#loop = this.#run();
  }

  /** Stops following; resolves once the batch in flight (if any) is committed. */
  async pause(): Promise<void> {
    this.#following = false;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
    await this.#step;
  }

  async #run(): Promise<void> {
    while (this.#following) {
      let applied = 0;
      try {
        applied = await this.#stepOnce();
      } catch (error) {
        if (isLedgerError(error, 'SHARD_UNAVAILABLE')) {
          await sleep(this.#pollIntervalMs);
          continue;
        }
        // Anything else (a closed ledger, a broken invariant) stops the projection; waiters and
        // later calls see it.
        this.#failure = error;
        this.#following = false;
        this.#signal();
        return;
      }
      if (applied === 0 && this.#following) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#pollIntervalMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = null;
      }
    }
  }

  /** One round: reads the next batch of every shard and applies each in its own transaction.
   * Only one round runs at a time. Returns the number of events applied. */
  #stepOnce(): Promise<number> {
    this.#step ??= this.#stepNow().finally(() => {
      this.#step = null;
    });
    return this.#step;
  }

  async #stepNow(): Promise<number> {
    const batches = await Promise.all(
      this.#marks.map((mark) => this.ledger.readEvents(mark.shard, mark.sequence, this.#batchSizeEvents) as Promise<SequencedLedgerEvent[]>),
    );
    let applied = 0;
    for (let shard = 0; shard < batches.length; shard += 1) {
      const events = batches[shard] as SequencedLedgerEvent[];
      if (events.length === 0) continue;
      // Let the write path's callbacks run between two synchronous SQLite transactions.
      if (applied > 0) await new Promise((resolve) => setImmediate(resolve));
      this.#marks[shard] = this.#projector.applyBatch(shard, this.#marks[shard] as Watermark, events);
      applied += events.length;
      this.#signal();
    }
    return applied;
  }

  #signal(): void {
    for (const listener of this.#progress) listener();
    this.#progress.clear();
  }

  #reached(targets: readonly LogPosition[]): boolean {
    return targets.every((target) => (this.#marks[target.shard]?.sequence ?? -1) >= target.sequence);
  }

  async #targetsOf(target: WaitTarget): Promise<LogPosition[]> {
    if (target === 'latest') {
      const info = await this.ledger.info();
      return info.shardInfo.map((shard, index) => ({ shard: index, sequence: shard.lastSequence }));
    }
    const list = Array.isArray(target) ? (target as readonly LogPosition[]) : 'watermark' in target ? target.watermark : [target as LogPosition];
    for (const position of list) {
      if (!Number.isSafeInteger(position.shard) || position.shard < 0 || position.shard >= this.ledger.shards || !Number.isSafeInteger(position.sequence)) {
        throw new LedgerError('INVALID_ARGUMENT', { target: 'shard and sequence' });
      }
    }
    return list.map((position) => ({ shard: position.shard, sequence: position.sequence }));
  }

  /** Resolves with the watermark once the projection reached `target` ('latest': every shard's
   * last sequence as of this call). Rejects with TIMEOUT after `timeoutMs` (default 10,000). */
  async waitFor(target: WaitTarget, options: { readonly timeoutMs?: number } = {}): Promise<readonly Watermark[]> {
    this.#ensureOpen();
    const timeoutMs = options.timeoutMs ?? 10_000;
    const deadline = performance.now() + timeoutMs;
    const targets = await this.#targetsOf(target);
    while (!this.#reached(targets)) {
      if (this.#failure !== null) throw this.#failure;
      const leftMs = deadline - performance.now();
      if (leftMs <= 0) throw new LedgerError('TIMEOUT', { timeoutMs, waitingFor: JSON.stringify(targets) });
      if (this.#following) {
        this.#wake?.();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(leftMs, this.#pollIntervalMs * 4));
          this.#progress.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      } else if ((await this.#stepOnce()) === 0) {
        await sleep(Math.min(leftMs, this.#pollIntervalMs));
      }
    }
    return this.watermark();
  }

  /** Projects until every shard reaches its last sequence as of this call. */
  catchUp(options: { readonly timeoutMs?: number } = {}): Promise<readonly Watermark[]> {
    return this.waitFor('latest', options);
  }

  /** Per shard: events written but not projected yet, and the age of the oldest of them. */
  async lag(): Promise<ShardLag[]> {
    this.#ensureOpen();
    const info = await this.ledger.info();
    const nowNs = BigInt(Date.now()) * NANOS_PER_MS;
    return Promise.all(
      info.shardInfo.map(async (shardInfo, shard) => {
        const projected = this.#marks[shard]?.sequence ?? 0;
        const lagEvents = Math.max(0, shardInfo.lastSequence - projected);
        let lagMs = 0;
        if (lagEvents > 0) {
          const [oldest] = (await this.ledger.readEvents(shard, projected, 1)) as SequencedLedgerEvent[];
          if (oldest !== undefined && nowNs > oldest.event.timestamp) lagMs = Number((nowNs - oldest.event.timestamp) / NANOS_PER_MS);
        }
        return { shard, projectedSequence: projected, ledgerSequence: shardInfo.lastSequence, lagEvents, lagMs };
      }),
    );
  }

  /** Projects the whole log into a fresh file next to this one, then swaps it in: a crash during
   * the rebuild leaves the old file as it was. */
  async rebuild(options: { readonly timeoutMs?: number } = {}): Promise<readonly Watermark[]> {
    this.#ensureOpen();
    const wasFollowing = this.#following;
    await this.pause();
    const fresh = `${this.path}.rebuild`;
    await removeDb(fresh);
    const db = await ReadModel.#openFor(this.ledger, fresh);
    const old = { db: this.#db, projector: this.#projector, marks: this.#marks };
    this.#db = db;
    this.#projector = new Projector(db);
    this.#marks = ReadModel.#marksOf(this.#projector, this.ledger.shards);
    try {
      await this.waitFor('latest', options);
    } catch (error) {
      db.close();
      await removeDb(fresh);
      this.#db = old.db;
      this.#projector = old.projector;
      this.#marks = old.marks;
      throw error;
    }
    // Close both (a clean close checkpoints the WAL into the file and deletes it), then swap.
    db.close();
    old.db.close();
    await removeDb(this.path);
    await rename(fresh, this.path);
    this.#db = openReadModelDb({ path: this.path, readonly: false });
    this.#projector = new Projector(this.#db);
    this.#marks = ReadModel.#marksOf(this.#projector, this.ledger.shards);
    if (wasFollowing) this.follow();
    return this.watermark();
  }

  // ---- queries: each result carries the watermark it reflects --------------------------------

  statement(options: StatementOptions): ReturnType<typeof statementOf> {
    return statementOf(this.#openDb(), options);
  }
  balanceAsOf(options: { readonly accountId: string; readonly timestamp: bigint }): ReturnType<typeof balanceAsOfTime> {
    return balanceAsOfTime(this.#openDb(), options);
  }
  transfersByMetadata(options: Parameters<typeof transfersByMetadata>[1]): ReturnType<typeof transfersByMetadata> {
    return transfersByMetadata(this.#openDb(), options);
  }
  lookupAccounts(ids: readonly string[]): ReturnType<typeof accountsOf> {
    return accountsOf(this.#openDb(), ids);
  }
  lookupTransfers(ids: readonly string[]): ReturnType<typeof transfersOf> {
    return transfersOf(this.#openDb(), ids);
  }
  currencyTotals(): ReturnType<typeof currencyTotalsOf> {
    return currencyTotalsOf(this.#openDb());
  }
  storedWatermark(): Watermark[] {
    return watermarksOf(this.#openDb());
  }
  /** The SQLite connection, for ad-hoc read queries and the tests' table dumps. */
  get db(): ReadModelDb {
    return this.#openDb();
  }

  #openDb(): ReadModelDb {
    this.#ensureOpen();
    return this.#db;
  }

  #ensureOpen(): void {
    if (this.#closed) throw new LedgerError('LEDGER_CLOSED', { readModel: this.path });
  }

  /** Stops following, closes the file and, when it opened it, the ledger. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.pause();
    this.#closed = true;
    this.#db.close();
    if (this.#ownsLedger) await this.ledger.close();
  }
}

async function removeDb(path: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) await rm(path + suffix, { force: true });
  }
}
