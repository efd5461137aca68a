// ReadModel: the CQRS read side of a Ledger. A projection loop (projection-loop.ts) keeps a
// SQLite file up to the ledger's logs through a projector worker. The caller's thread keeps a
// connection of its own for queries (queries.ts): they report the watermark they reflect, and
// `waitFor` gives read-your-writes with a timeout.

import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerError } from '@shardledger/ledger-core';
import { Ledger } from '../ledger.js';
import { openProjectionFiles, removeDbFiles, type ProjectionFiles } from './projection-files.js';
import { ProjectionLoop } from './projection-loop.js';
import type { Watermark } from './projector.js';
import type { ProjectorClient } from './projector-client.js';
import { watermarksOf } from './queries.js';
import { readModelQueries, type ReadModelQueries } from './read-model-file.js';
import type { ReadModelDb } from './read-model-db.js';
import { settingsOf, type ReadModelOptions, type ReadModelSettings } from './read-model-options.js';
import { lagOf, type ShardLag } from './shard-lag.js';
import { positionsOf, reached, type WaitTarget } from './wait-target.js';

export const readModelFileName = 'read-model.sqlite';

export class ReadModel implements ReadModelQueries {
  readonly path: string;
  readonly ledger: Ledger;
  readonly #ownsLedger: boolean;
  readonly #settings: ReadModelSettings;
  /** The caller's connection: queries and the stored watermarks. The worker writes. */
  #db: ReadModelDb;
  #projector: ProjectorClient;
  readonly #loop: ProjectionLoop;
  /** follow() was called and pause() was not since. */
  #followRequested = false;
  /** waitFor calls in progress (each keeps the loop running until it returns). */
  #waiting = 0;
  #closed = false;

  private constructor(options: {
    ledger: Ledger;
    ownsLedger: boolean;
    path: string;
    files: ProjectionFiles;
    settings: ReadModelSettings;
  }) {
    this.ledger = options.ledger;
    this.#ownsLedger = options.ownsLedger;
    this.path = options.path;
    this.#db = options.files.db;
    this.#projector = options.files.projector;
    this.#settings = options.settings;
    this.#loop = new ProjectionLoop(options.ledger, options.settings, options.files);
  }

  static async open(options: ReadModelOptions): Promise<ReadModel> {
    if ((options.ledger === undefined) === (options.dir === undefined)) {
      throw new LedgerError('INVALID_ARGUMENT', { options: 'exactly one of ledger and dir' });
    }
    const settings = settingsOf(options);
    const ownsLedger = options.ledger === undefined;
    const ledger = options.ledger ?? (await Ledger.open({ dir: options.dir as string }));
    try {
      const path = options.path ?? join(ledger.dir, readModelFileName);
      const files = await openProjectionFiles(ledger, path, settings.projectorNiceness);
      const model = new ReadModel({ ledger, ownsLedger, path, files, settings });
      if (options.follow ?? true) model.follow();
      return model;
    } catch (error) {
      if (ownsLedger) await ledger.close();
      throw error;
    }
  }

  /** Per shard, the last projected event (what every query result also carries). */
  watermark(): readonly Watermark[] {
    return this.#loop.marks.slice();
  }

  /** The projector thread's niceness (null where the system does not let it be set). */
  get projectorNiceness(): number | null {
    return this.#projector.niceness;
  }

  /** Starts the loop that follows every shard's log (idempotent). */
  follow(): void {
    this.#ensureOpen();
    this.#followRequested = true;
    this.#loop.start();
  }

  /** Stops following; resolves once the batches in flight (if any) are committed. */
  async pause(): Promise<void> {
    this.#followRequested = false;
    await this.#loop.stop();
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
    const targets = await positionsOf(this.ledger, target);
    this.#waiting += 1;
    try {
      while (!reached(this.#loop.marks, targets)) {
        this.#ensureOpen();
        if (this.#loop.failure !== null) throw this.#loop.failure;
        const leftMs = deadline - performance.now();
        if (leftMs <= 0)
          throw new LedgerError('TIMEOUT', { timeoutMs, waitingFor: JSON.stringify(targets) });
        this.#loop.start();
        if (options.pollNow !== false) this.#loop.pollNow();
        await this.#loop.progress(Math.min(leftMs, this.#settings.pollIntervalMs * 4));
      }
    } finally {
      this.#waiting -= 1;
      if (this.#waiting === 0 && !this.#followRequested && !this.#closed) await this.#loop.stop();
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
    return lagOf(this.ledger, info, this.#loop.marks);
  }

  /** Projects the whole log into a fresh file next to this one, then swaps it in: a crash during
   * the rebuild leaves the old file as it was. */
  async rebuild(options: { readonly timeoutMs?: number } = {}): Promise<readonly Watermark[]> {
    this.#ensureOpen();
    const wasFollowing = this.#followRequested;
    await this.pause();
    if (this.#loop.failure !== null) throw this.#loop.failure;
    const fresh = `${this.path}.rebuild`;
    await removeDbFiles(fresh);
    const old = { db: this.#db, projector: this.#projector };
    this.#attach(await this.#openFiles(fresh));
    try {
      await this.waitFor('latest', options);
    } catch (error) {
      await this.#detach();
      await removeDbFiles(fresh);
      this.#attach(old);
      if (wasFollowing) this.follow();
      throw error;
    }
    // Close both (a clean close checkpoints the WAL into the file and deletes it), then swap.
    await this.#detach();
    this.#attach(old);
    await this.#detach();
    await removeDbFiles(this.path);
    await rename(fresh, this.path);
    this.#attach(await this.#openFiles(this.path));
    if (wasFollowing) this.follow();
    return this.watermark();
  }

  #openFiles(path: string): Promise<ProjectionFiles> {
    return openProjectionFiles(this.ledger, path, this.#settings.projectorNiceness);
  }

  #attach(files: ProjectionFiles): void {
    this.#db = files.db;
    this.#projector = files.projector;
    this.#loop.attach(files);
  }

  async #detach(): Promise<void> {
    await this.#loop.stop();
    await this.#projector.close();
    this.#db.close();
  }

  // ---- queries: the Ledger's names, arguments and results (read-model-file.ts) -------------

  readonly #queries: ReadModelQueries = readModelQueries(() => this.#openDb());
  lookupAccounts: ReadModelQueries['lookupAccounts'] = (ids) => this.#queries.lookupAccounts(ids);
  lookupTransfers: ReadModelQueries['lookupTransfers'] = (ids) =>
    this.#queries.lookupTransfers(ids);
  listAccounts: ReadModelQueries['listAccounts'] = (options) => this.#queries.listAccounts(options);
  balanceAsOf: ReadModelQueries['balanceAsOf'] = (accountId, at) =>
    this.#queries.balanceAsOf(accountId, at);
  statement: ReadModelQueries['statement'] = (options) => this.#queries.statement(options);
  transfersByMetadata: ReadModelQueries['transfersByMetadata'] = (options) =>
    this.#queries.transfersByMetadata(options);
  currencyTotals: ReadModelQueries['currencyTotals'] = () => this.#queries.currencyTotals();
  /** Per shard, the last event committed into the file (watermark() is the loop's, in memory). */
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
