// ReadModel: the CQRS read side of a Ledger. A loop on the caller's thread reads each shard's
// durable log records in batches (the shard client's readNewRecords) and ships them, undecoded,
// to the projector worker (projector-worker.ts), which decodes them and applies them to a SQLite
// file in one transaction per batch (projector.ts). The caller's thread keeps a connection of
// its own for queries (queries.ts): they report the watermark they reflect, and `waitFor` gives
// read-your-writes with a timeout.

import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerError, isLedgerError, limits } from '@shardledger/ledger-core';
import {
  checkBalanceAtTime,
  checkIdList,
  checkMetadataQuery,
  checkStatementOptions,
} from '../arguments.js';
import { Ledger } from '../ledger.js';
import type { Watermark } from './projector.js';
import { ProjectorClient } from './projector-client.js';
import type { RecordBatch } from './projector-protocol.js';
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
  /** Pause between polls when every shard is caught up (default 5 ms); it doubles on each poll
   * that finds nothing, up to `pollIntervalMaxMs`. */
  readonly pollIntervalMs?: number;
  /** Longest pause between polls of an idle ledger (default 50 ms): the lag an idle projector
   * adds to the first event after a quiet spell. `waitFor` polls at once. */
  readonly pollIntervalMaxMs?: number;
  /** Niceness of the projector's worker thread, 0 to 19 (default 19): at 19 it runs on CPU time
   * the writers leave idle, so it lags under peak load rather than slowing writes down. */
  readonly projectorNiceness?: number;
  /** Start following the logs at once (default true); otherwise project on `catchUp`/`waitFor`. */
  readonly follow?: boolean;
}

/** A position in one shard's log: what `waitFor` waits for. */
export interface LogPosition {
  readonly shard: number;
  readonly sequence: number;
}

export type WaitTarget =
  'latest' | LogPosition | readonly LogPosition[] | { readonly watermark: readonly LogPosition[] };

export interface ShardLag {
  readonly shard: number;
  readonly projectedSequence: number;
  readonly ledgerSequence: number;
  readonly lagEvents: number;
  /** Age of the oldest event not yet projected (0 when caught up). */
  readonly lagMs: number;
}

const NANOS_PER_MS = 1_000_000n;
/** Batches of one shard shipped to the worker and not yet committed. More than one, so that the
 * next batch is read while the worker applies the previous one; six, so that a projector behind
 * finds several waiting and applies them in one transaction (projector-worker.ts): a transaction
 * writes each page it changed once, and the entries' account index is changed all over, so fewer,
 * bigger transactions write fewer pages per event (12% less projector CPU per event measured at
 * 6 than at 2, three interleaved pairs, scratch catch-up of 310,000 events). */
const batchesInFlightPerShardMax = 6;
const pollIntervalMsDefault = 5;
const pollIntervalMaxMsDefault = 50;
/** Pause between polls while no command is in flight to any shard and none was sent since the
 * last poll: only a shard's own timers (pending transfers expiring) can add events then. */
const pollIntervalQuietMs = 1_000;
const projectorNicenessDefault = 19;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Settings {
  readonly batchSizeEvents: number;
  readonly pollIntervalMs: number;
  readonly pollIntervalMaxMs: number;
  readonly projectorNiceness: number;
}

export class ReadModel {
  readonly path: string;
  readonly ledger: Ledger;
  readonly #ownsLedger: boolean;
  readonly #settings: Settings;
  /** The caller's connection: queries and the stored watermarks. The worker writes. */
  #db: ReadModelDb;
  #projector: ProjectorClient;
  /** Per shard, the last committed event. */
  #marks: Watermark[];
  /** Per shard, the sequence of the last event sent to the worker (ahead of #marks by the
   * batches in flight). */
  #sent: number[];
  /** Per shard, the batches sent to the worker and not committed yet (settled when they are),
   * oldest first. */
  #inFlight: Promise<void>[][];
  /** The loop runs: the caller asked to follow, or a waitFor needs it. */
  #following = false;
  /** follow() was called and pause() was not since. */
  #followRequested = false;
  /** A waitFor asks for a read of the shards now, whatever the quiet-ledger pace. */
  #pollNow = false;
  /** waitFor calls in progress (each keeps the loop running until it returns). */
  #waiting = 0;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #progress = new Set<() => void>();
  #failure: unknown = null;
  #closed = false;

  private constructor(options: {
    ledger: Ledger;
    ownsLedger: boolean;
    path: string;
    db: ReadModelDb;
    projector: ProjectorClient;
    settings: Settings;
  }) {
    this.ledger = options.ledger;
    this.#ownsLedger = options.ownsLedger;
    this.path = options.path;
    this.#db = options.db;
    this.#projector = options.projector;
    this.#settings = options.settings;
    this.#marks = ReadModel.#marksOf(options.db, options.ledger.shards);
    this.#sent = this.#marks.map((mark) => mark.sequence);
    this.#inFlight = this.#marks.map(() => []);
  }

  static async open(options: ReadModelOptions): Promise<ReadModel> {
    if ((options.ledger === undefined) === (options.dir === undefined)) {
      throw new LedgerError('INVALID_ARGUMENT', { options: 'exactly one of ledger and dir' });
    }
    const settings = ReadModel.#settingsOf(options);
    const ownsLedger = options.ledger === undefined;
    const ledger = options.ledger ?? (await Ledger.open({ dir: options.dir as string }));
    try {
      const path = options.path ?? join(ledger.dir, readModelFileName);
      const { db, projector } = await ReadModel.#openFor(ledger, path, settings);
      const model = new ReadModel({ ledger, ownsLedger, path, db, projector, settings });
      if (options.follow ?? true) model.follow();
      return model;
    } catch (error) {
      if (ownsLedger) await ledger.close();
      throw error;
    }
  }

  static #settingsOf(options: ReadModelOptions): Settings {
    const settings: Settings = {
      batchSizeEvents: options.batchSizeEvents ?? limits.batchSizeMax,
      pollIntervalMs: options.pollIntervalMs ?? pollIntervalMsDefault,
      pollIntervalMaxMs:
        options.pollIntervalMaxMs ??
        Math.max(pollIntervalMaxMsDefault, options.pollIntervalMs ?? 0),
      projectorNiceness: options.projectorNiceness ?? projectorNicenessDefault,
    };
    const { batchSizeEvents, pollIntervalMs, pollIntervalMaxMs, projectorNiceness } = settings;
    if (
      !Number.isSafeInteger(batchSizeEvents) ||
      batchSizeEvents < 1 ||
      batchSizeEvents > limits.batchSizeMax
    ) {
      throw new LedgerError('INVALID_ARGUMENT', { batchSizeEvents: `1 to ${limits.batchSizeMax}` });
    }
    if (
      !Number.isSafeInteger(pollIntervalMs) ||
      pollIntervalMs < 1 ||
      !Number.isSafeInteger(pollIntervalMaxMs) ||
      pollIntervalMaxMs < pollIntervalMs
    ) {
      throw new LedgerError('INVALID_ARGUMENT', {
        pollIntervalMs: 'an integer >= 1, and pollIntervalMaxMs >= pollIntervalMs',
      });
    }
    if (
      !Number.isSafeInteger(projectorNiceness) ||
      projectorNiceness < 0 ||
      projectorNiceness > 19
    ) {
      throw new LedgerError('INVALID_ARGUMENT', { projectorNiceness: '0 to 19' });
    }
    return settings;
  }

  /** Opens the file and checks that it projects this ledger (its ledgerId, hash and shard count), then
   * starts the projector worker on it. */
  static async #openFor(
    ledger: Ledger,
    path: string,
    settings: Settings,
  ): Promise<{ db: ReadModelDb; projector: ProjectorClient }> {
    const info = await ledger.info();
    const db = openReadModelDb({ path, readonly: false });
    try {
      // Which ledger: its id, plus the shape its watermarks depend on.
      const identity = `${info.hash}/${info.shards}/${info.ledgerId}`;
      // Files written before ledger ids held the shape only: they are taken for this ledger once.
      const shapeOnly = `${info.hash}/${info.shards}`;
      const row = db.prepare("SELECT value FROM meta WHERE key = 'ledger'").get() as
        { value: string } | undefined;
      if (row === undefined || row.value === shapeOnly) {
        db.prepare(
          "INSERT INTO meta (key, value) VALUES ('ledger', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ).run(identity);
      } else if (row.value !== identity) {
        throw new LedgerError('INVALID_ARGUMENT', {
          path,
          ledger: 'the file projects another ledger',
        });
      }
      // A file ahead of a shard's log holds rows of events that log does not have (lost to a
      // power cut after they were projected). Following on from its watermark would skip the
      // events that take those sequence numbers next, so the file is started again from the log.
      const ahead = watermarksOf(db).some(
        (mark) => mark.sequence > (info.shardInfo[mark.shard]?.lastSequence ?? 0),
      );
      if (ahead) {
        db.close();
        await removeDb(path);
        return await ReadModel.#openFor(ledger, path, settings);
      }
      const projector = await ProjectorClient.open({ path, niceness: settings.projectorNiceness });
      return { db, projector };
    } catch (error) {
      db.close();
      throw error;
    }
  }

  static #marksOf(db: ReadModelDb, shards: number): Watermark[] {
    const stored = new Map(watermarksOf(db).map((mark) => [mark.shard, mark]));
    return Array.from(
      { length: shards },
      (_, shard) => stored.get(shard) ?? { shard, sequence: 0, timestamp: 0n },
    );
  }

  /** Per shard, the last projected event (what every query result also carries). */
  watermark(): readonly Watermark[] {
    return this.#marks.slice();
  }

  /** The projector thread's niceness (null where the system does not let it be set). */
  get projectorNiceness(): number | null {
    return this.#projector.niceness;
  }

  /** Starts the loop that follows every shard's log (idempotent). */
  follow(): void {
    this.#ensureOpen();
    this.#followRequested = true;
    this.#startLoop();
  }

  /** Stops following; resolves once the batches in flight (if any) are committed. */
  async pause(): Promise<void> {
    this.#followRequested = false;
    await this.#stopLoop();
  }

  #startLoop(): void {
    if (this.#following || this.#failure !== null) return;
    this.#following = true;
    this.#loop = this.#run();
  }

  async #stopLoop(): Promise<void> {
    this.#following = false;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
    await Promise.allSettled(this.#inFlight.flat());
  }

  async #run(): Promise<void> {
    const { pollIntervalMs, pollIntervalMaxMs } = this.#settings;
    let idlePolls = 0;
    let writes = this.#writesSeen();
    let busy = true;
    let lastReadMs = 0;
    while (this.#following) {
      if (this.#inFlight.every((batches) => batches.length >= batchesInFlightPerShardMax)) {
        // Every shard has its batches in flight: wait for one to commit before reading more.
        await this.#idle(null);
        continue;
      }
      // Writes under way (a submit sent since the last look, commands in flight now or then):
      // poll at the fast pace. Otherwise, once the backoff has reached pollIntervalMaxMs, read the
      // shards only every pollIntervalQuietMs (only a shard's own timers, expiring pending
      // transfers, add events then), and look at the submit counters in between, which is free.
      const seen = this.#writesSeen();
      const busyNow = !this.#noCommandsInFlight();
      if (seen !== writes || busy || busyNow) idlePolls = 0;
      writes = seen;
      busy = busyNow;
      const backoffMs = Math.min(pollIntervalMaxMs, pollIntervalMs * 2 ** Math.min(idlePolls, 16));
      if (
        idlePolls > 0 &&
        backoffMs === pollIntervalMaxMs &&
        !this.#pollNow &&
        performance.now() - lastReadMs < pollIntervalQuietMs
      ) {
        await this.#idle(pollIntervalMaxMs);
        continue;
      }
      this.#pollNow = false;
      lastReadMs = performance.now();
      let read: number;
      try {
        read = await this.#readAndShip();
      } catch (error) {
        if (isLedgerError(error, 'SHARD_UNAVAILABLE')) {
          await sleep(pollIntervalMs);
          continue;
        }
        // Anything else (a closed ledger) stops the projection; waiters and later calls see it.
        this.#stop(error);
        return;
      }
      if (!this.#following) return;
      if (read > 0) {
        idlePolls = 0;
        continue;
      }
      // Nothing new: back off, doubling the pause up to pollIntervalMaxMs. waitFor and pause cut
      // the pause short.
      await this.#idle(backoffMs);
      idlePolls += 1;
    }
  }

  /** Submit messages sent to the shards so far: when it moves, events are on their way. */
  #writesSeen(): number {
    let sent = 0;
    for (let shard = 0; shard < this.ledger.shards; shard += 1)
      sent += this.ledger.shardClient(shard).submitMessagesSent;
    return sent;
  }

  #noCommandsInFlight(): boolean {
    for (let shard = 0; shard < this.ledger.shards; shard += 1) {
      if (this.ledger.shardClient(shard).outstandingCommands > 0) return false;
    }
    return true;
  }

  /** Waits for `ms` (null: until a batch commits), a wake-up or a commit, whichever comes first. */
  #idle(ms: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === null ? undefined : setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
      if (ms === null) this.#progress.add(done);
    }).finally(() => {
      this.#wake = null;
    });
  }

  /** Reads the next batch of every shard with room in flight and ships each to the worker.
   * Returns the number of events shipped. */
  async #readAndShip(): Promise<number> {
    const limit = this.#settings.batchSizeEvents;
    const shards = this.#marks
      .map((mark) => mark.shard)
      .filter(
        (shard) => (this.#inFlight[shard] as Promise<void>[]).length < batchesInFlightPerShardMax,
      );
    // A closed ledger's shard clients reject with LEDGER_CLOSED, which stops the loop.
    const replies = await Promise.all(
      shards.map((shard) =>
        this.ledger.shardClient(shard).readNewRecords(this.#sent[shard] as number, limit),
      ),
    );
    let read = 0;
    for (const [index, reply] of replies.entries()) {
      const shard = shards[index] as number;
      const afterSequence = this.#sent[shard] as number;
      if (reply.lastSequence <= afterSequence || !this.#following) continue;
      // The records hold at least events afterSequence+1 .. min(last, afterSequence+limit).
      const lastSequence = Math.min(reply.lastSequence, afterSequence + limit);
      this.#ship({ shard, afterSequence, lastSequence, records: reply.records });
      read += lastSequence - afterSequence;
    }
    return read;
  }

  #ship(batch: RecordBatch): void {
    const { shard } = batch;
    this.#sent[shard] = batch.lastSequence;
    const queue = this.#inFlight[shard] as Promise<void>[];
    const done = this.#projector.apply(batch).then(
      (mark) => {
        this.#marks[shard] = mark;
        queue.shift();
        this.#signal();
      },
      (error: unknown) => this.#stop(error),
    );
    queue.push(done);
  }

  /** The projection cannot go on (a closed ledger, a failed batch): later waits report `error`. */
  #stop(error: unknown): void {
    this.#failure ??= error;
    this.#following = false;
    this.#wake?.();
    this.#signal();
  }

  #signal(): void {
    for (const listener of this.#progress) listener();
    this.#progress.clear();
  }

  #reached(targets: readonly LogPosition[]): boolean {
    return targets.every(
      (target) => (this.#marks[target.shard]?.sequence ?? -1) >= target.sequence,
    );
  }

  async #targetsOf(target: WaitTarget): Promise<LogPosition[]> {
    if (target === 'latest') {
      const info = await this.ledger.info();
      return info.shardInfo.map((shard, index) => ({ shard: index, sequence: shard.lastSequence }));
    }
    const list = Array.isArray(target)
      ? (target as readonly LogPosition[])
      : 'watermark' in target
        ? target.watermark
        : [target as LogPosition];
    for (const position of list) {
      if (
        !Number.isSafeInteger(position.shard) ||
        position.shard < 0 ||
        position.shard >= this.ledger.shards ||
        !Number.isSafeInteger(position.sequence)
      ) {
        throw new LedgerError('INVALID_ARGUMENT', { target: 'shard and sequence' });
      }
    }
    return list.map((position) => ({ shard: position.shard, sequence: position.sequence }));
  }

  /** Resolves with the watermark once the projection reached `target` ('latest': every shard's
   * last sequence as of this call). Rejects with TIMEOUT after `timeoutMs` (default 10,000). A
   * model that does not follow the logs follows them for the duration of the wait. The wait makes
   * the loop read at once, cutting its poll pause short; `pollNow: false` leaves the loop at its
   * own pace (the bench uses it to measure the lag that a reader who does not wait sees). */
  async waitFor(
    target: WaitTarget,
    options: { readonly timeoutMs?: number; readonly pollNow?: boolean } = {},
  ): Promise<readonly Watermark[]> {
    this.#ensureOpen();
    const timeoutMs = options.timeoutMs ?? 10_000;
    const deadline = performance.now() + timeoutMs;
    const targets = await this.#targetsOf(target);
    this.#waiting += 1;
    try {
      while (!this.#reached(targets)) {
        this.#ensureOpen();
        if (this.#failure !== null) throw this.#failure;
        const leftMs = deadline - performance.now();
        if (leftMs <= 0)
          throw new LedgerError('TIMEOUT', { timeoutMs, waitingFor: JSON.stringify(targets) });
        this.#startLoop();
        if (options.pollNow !== false) {
          this.#pollNow = true;
          this.#wake?.();
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(leftMs, this.#settings.pollIntervalMs * 4));
          function done(): void {
            clearTimeout(timer);
            resolve();
          }
          this.#progress.add(done);
        });
      }
    } finally {
      this.#waiting -= 1;
      if (this.#waiting === 0 && !this.#followRequested && !this.#closed) await this.#stopLoop();
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
          // The oldest event not projected, read from the log (the worker decodes what it applies;
          // this thread does not know event timestamps before they are committed).
          const oldest = (await this.ledger.readEvents(shard, projected, 1))[0]?.event.timestamp;
          if (oldest !== undefined && nowNs > oldest)
            lagMs = Number((nowNs - oldest) / NANOS_PER_MS);
        }
        return {
          shard,
          projectedSequence: projected,
          ledgerSequence: shardInfo.lastSequence,
          lagEvents,
          lagMs,
        };
      }),
    );
  }

  /** Projects the whole log into a fresh file next to this one, then swaps it in: a crash during
   * the rebuild leaves the old file as it was. */
  async rebuild(options: { readonly timeoutMs?: number } = {}): Promise<readonly Watermark[]> {
    this.#ensureOpen();
    const wasFollowing = this.#followRequested;
    await this.pause();
    if (this.#failure !== null) throw this.#failure;
    const fresh = `${this.path}.rebuild`;
    await removeDb(fresh);
    const old = { db: this.#db, projector: this.#projector };
    this.#attach(await ReadModel.#openFor(this.ledger, fresh, this.#settings));
    try {
      await this.waitFor('latest', options);
    } catch (error) {
      await this.#detach();
      await removeDb(fresh);
      this.#attach(old);
      if (wasFollowing) this.follow();
      throw error;
    }
    // Close both (a clean close checkpoints the WAL into the file and deletes it), then swap.
    await this.#detach();
    this.#attach(old);
    await this.#detach();
    await removeDb(this.path);
    await rename(fresh, this.path);
    this.#attach(await ReadModel.#openFor(this.ledger, this.path, this.#settings));
    if (wasFollowing) this.follow();
    return this.watermark();
  }

  #attach(files: { db: ReadModelDb; projector: ProjectorClient }): void {
    this.#db = files.db;
    this.#projector = files.projector;
    this.#marks = ReadModel.#marksOf(files.db, this.ledger.shards);
    this.#sent = this.#marks.map((mark) => mark.sequence);
    this.#inFlight = this.#marks.map(() => []);
  }

  async #detach(): Promise<void> {
    await this.#stopLoop();
    await this.#projector.close();
    this.#db.close();
  }

  // ---- queries: each result carries the watermark it reflects --------------------------------

  statement(options: StatementOptions): ReturnType<typeof statementOf> {
    checkStatementOptions(options);
    return statementOf(this.#openDb(), options);
  }
  balanceAsOf(options: {
    readonly accountId: string;
    readonly timestamp: bigint;
  }): ReturnType<typeof balanceAsOfTime> {
    checkBalanceAtTime(options);
    return balanceAsOfTime(this.#openDb(), options);
  }
  transfersByMetadata(
    options: Parameters<typeof transfersByMetadata>[1],
  ): ReturnType<typeof transfersByMetadata> {
    checkMetadataQuery(options);
    return transfersByMetadata(this.#openDb(), options);
  }
  lookupAccounts(ids: readonly string[]): ReturnType<typeof accountsOf> {
    // An invalid id becomes '', which names no row (an id is never empty).
    return accountsOf(
      this.#openDb(),
      checkIdList(ids, 'ids').map((id) => id ?? ''),
    );
  }
  lookupTransfers(ids: readonly string[]): ReturnType<typeof transfersOf> {
    return transfersOf(
      this.#openDb(),
      checkIdList(ids, 'ids').map((id) => id ?? ''),
    );
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
    this.#closed = true;
    await this.#detach();
    if (this.#ownsLedger) await this.ledger.close();
  }
}

async function removeDb(path: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) await rm(path + suffix, { force: true });
  }
}
