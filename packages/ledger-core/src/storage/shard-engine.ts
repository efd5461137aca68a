// One shard: the deterministic state machine in memory, its LMDB event log on disk, snapshots,
// recovery and replay. Exactly one ShardEngine may have a shard directory open at a time (the
// router holds a directory lock), and it is the single writer of that LMDB environment.
//
// Write path (submit): decide + evolve each command in memory, then append all events of the
// call as ONE log record (group commit) plus the id-index, saga and history entries, in write
// order: log record first, 'indexedThrough' last. lmdb-js commits a prefix of that order, so after
// a crash the log is the truth and index entries past 'indexedThrough' are re-derived on open.
//
// The engine holds the commit loop and the lifecycle; the id index (id-index.ts), the plain lane
// (plain-lane.ts), the log reads (event-log.ts), account history (account-history.ts), opening
// and recovery (engine-recovery.ts) and verify (shard-verify.ts) are their own units.

import { join } from 'node:path';
import { AssertionError, assert } from '../assert.js';
import { LedgerError, statusOf, type RejectionCode } from '../errors.js';
import { limits } from '../limits.js';
import { checkBalanceTotals } from '../domain/audit.js';
import { decide } from '../domain/decide.js';
import { initialState, type LedgerState, type ReservationState } from '../domain/state.js';
import {
  accountFlags,
  type Command,
  type DecideContext,
  type LedgerEvent,
  type SagaOutcome,
  type TransferRecord,
} from '../domain/types.js';
import { encodeEventRecord, EventRecordBuilder, timestampKey } from './codec.js';
import { readCommandBatch, ResultBatchWriter } from './batch-codec.js';
import { isSagaCommand } from './saga-codec.js';
import type {
  AccountView,
  BackupCut,
  BackupInfo,
  CommandResult,
  CommandStatus,
  Durability,
  EngineInfo,
  HistoryPage,
  SequencedEvent,
  ShardEngineApi,
  ShardEngineOptions,
  SnapshotInfo,
  VerifyReport,
} from './engine-types.js';
import { openShardDatabases, type ShardDatabases } from './lmdb-env.js';
import { captureState, SnapshotStore } from './snapshot-store.js';
import { FailStop, storageErrorOf } from './fail-stop.js';
import { WriterFence } from './writer-fence.js';
import { checkShardFiles } from './shard-identity.js';
import { copyCut, createBackupDir, openCut } from './backup-copy.js';
import { corruptionOf } from './corruption.js';
import { accountView } from './account-view.js';
import { AccountHistory } from './account-history.js';
import { EventLog } from './event-log.js';
import { IdIndex, stageIndexWrites } from './id-index.js';
import { PlainRun, runPlainLane } from './plain-lane.js';
import type { StagedWrites } from './staged-writes.js';
import {
  checkFormatVersion,
  checkIdentity,
  INDEXED_THROUGH,
  markHistoryIndex,
  recover,
  writeIdentity,
} from './engine-recovery.js';
import { verifyShard } from './shard-verify.js';
import { engineInfo } from './engine-info.js';

const DEFAULT_MAP_SIZE = 64 * 1024 ** 3;

/** Wall clock in nanoseconds since the epoch, monotonic within the process. */
function wallClock(): () => bigint {
  const offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => process.hrtime.bigint() + offset;
}

export class ShardEngine implements ShardEngineApi {
  readonly dir: string;
  private readonly db: ShardDatabases;
  private readonly log: EventLog;
  private readonly snapshots: SnapshotStore;
  private readonly durability: Durability;
  private readonly clock: () => bigint;
  private readonly commitFault: (() => Error | undefined) | undefined;
  private readonly snapshotIntervalEvents: number;
  private readonly snapshotIntervalMs: number;
  private state: LedgerState;
  /** The id and saga indexes as decide sees them, with what is staged for the next commit. */
  private readonly index: IdIndex;
  /** The lookups decide makes (the id index's), and the timestamp of the command decided. */
  private readonly context: DecideContext & { timestamp: bigint };
  private readonly history: AccountHistory;
  /** Resolves when every batch applied so far is durable. */
  private durable: Promise<void> = Promise.resolve();
  /** Set by the first failed write or broken invariant; the engine then refuses everything. */
  private readonly stop = new FailStop();
  private get failure(): LedgerError | null {
    return this.stop.failure;
  }
  private set failure(error: LedgerError) {
    this.stop.fail(error);
  }
  /** This writer's fence: every write transaction is conditional on it (writer-fence.ts). */
  private fence: WriterFence | null = null;
  private closed = false;
  private snapshotRunning: Promise<SnapshotInfo> | null = null;
  /** Backups copying the environment: close waits for them (LMDB must not close under a copy). */
  private readonly backupsRunning = new Set<Promise<unknown>>();
  private lastSnapshotSequence = 0;
  private lastSnapshotAtMs = Date.now();
  private expiryTimer: NodeJS.Timeout | null = null;
  private recoveredFromSnapshot: number | null = null;
  private recoveryMs = 0;
  private plainLaneCount = 0;

  /** The sequence number of the last event applied (info().lastSequence without its disk and
   * totals work: the read model polls it). */
  get lastSequence(): number {
    return this.state.lastSequence;
  }

  /** Transfers applied by submitEncoded's plain-transfer lane since open (diagnostics, tests). */
  get plainLaneTransfers(): number {
    return this.plainLaneCount;
  }

  private constructor(options: ShardEngineOptions, db: ShardDatabases) {
    this.dir = options.dir;
    this.db = db;
    this.log = new EventLog(db.log, options.dir);
    this.snapshots = new SnapshotStore(join(options.dir, 'snapshots'));
    this.durability = options.durability ?? 'strict';
    this.clock = options.clock ?? wallClock();
    this.commitFault = options.commitFault;
    this.snapshotIntervalEvents = options.snapshotIntervalEvents ?? limits.snapshotIntervalEvents;
    this.snapshotIntervalMs = options.snapshotIntervalMs ?? limits.snapshotIntervalMs;
    this.state = initialState();
    this.index = new IdIndex(db);
    this.context = this.index.context;
    this.history = new AccountHistory(db, this.log, options.accountHistory ?? true);
  }

  static async open(options: ShardEngineOptions): Promise<ShardEngine> {
    if (
      options.durability !== undefined &&
      options.durability !== 'strict' &&
      options.durability !== 'relaxed'
    ) {
      throw new LedgerError('INVALID_ARGUMENT', { durability: String(options.durability) });
    }
    // Before LMDB opens the file: it would create a missing one.
    if (options.identity !== undefined) checkShardFiles(options.dir, options.identity);
    const db = openShardDatabases(options.dir, options.mapSizeBytes ?? DEFAULT_MAP_SIZE);
    const engine = new ShardEngine(options, db);
    try {
      await engine.openChecked(options.identity);
    } catch (error) {
      const corrupt = corruptionOf(error, { dir: options.dir });
      if (corrupt !== null) engine.failure = corrupt;
      else if (
        engine.failure === null &&
        !(error instanceof AssertionError) &&
        !(error instanceof LedgerError)
      )
        engine.failure = await storageErrorOf(error, { dir: options.dir });
      await engine.closeEnv();
      throw engine.failure ?? error;
    }
    return engine;
  }

  /** open's checks, the writer fence, then recovery (engine-recovery.ts). */
  private async openChecked(identity: ShardEngineOptions['identity']): Promise<void> {
    const shard = { dir: this.dir, db: this.db, log: this.log };
    const writeIdentityAfter = identity !== undefined && checkIdentity(shard, identity);
    await checkFormatVersion(shard);
    const fence = await WriterFence.take({ env: this.db.env, db: this.db.writer, dir: this.dir });
    this.fence = fence;
    this.history.complete = await markHistoryIndex(this.db, this.history.enabled);
    const started = performance.now();
    const { index, history, snapshots, stop } = this;
    const recovered = await recover({ ...shard, snapshots, fence, stop, index, history });
    this.state = recovered.state;
    this.recoveredFromSnapshot = recovered.fromSnapshot;
    this.lastSnapshotSequence = recovered.fromSnapshot ?? 0;
    this.recoveryMs = performance.now() - started;
    this.scheduleExpiry();
    if (writeIdentityAfter && identity !== undefined)
      await writeIdentity(shard, fence, this.state, identity);
  }

  // ---- write path -------------------------------------------------------------------------

  private ensureOpen(): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new LedgerError('LEDGER_CLOSED');
  }

  /** The timestamp of a call's first event: the clock, kept above the last event's. */
  private now(): bigint {
    const now = this.clock();
    return now <= this.state.lastTimestamp ? this.state.lastTimestamp + 1n : now;
  }

  /** A throw while applying commands is a bug (decide and evolve reject with data): memory may
   * be ahead of the log, so this engine stops; reopening recovers from the log. A damaged index
   * page met by a lookup is not a bug: it is reported as what it is. */
  private applyFailed(error: unknown): LedgerError {
    this.failure =
      corruptionOf(error, { dir: this.dir }) ??
      new LedgerError('ASSERTION_FAILED', { message: String(error) });
    return this.failure;
  }

  async submit(commands: readonly Command[]): Promise<CommandResult[]> {
    this.ensureOpen();
    if (!Array.isArray(commands))
      throw new LedgerError('INVALID_ARGUMENT', { commands: typeof commands });
    if (commands.length > limits.batchSizeMax)
      throw new LedgerError('BATCH_TOO_LARGE', { size: commands.length });
    const first = this.state.lastSequence + 1;
    const events: LedgerEvent[] = [];
    const results: CommandResult[] = new Array(commands.length);
    const now = this.now();
    const dueAt = this.state.expiries.peek();
    if (dueAt !== null && dueAt <= now) this.apply({ type: 'ExpirePendingTransfers' }, events, now);
    try {
      for (let index = 0; index < commands.length; index += 1) {
        results[index] = this.apply(commands[index] as Command, events, now);
      }
    } catch (error) {
      throw this.applyFailed(error);
    }
    if (events.length === 0) {
      await this.durable;
      return results;
    }
    // Saga steps are always flushed, whatever the durability mode: a relaxed shard could
    // otherwise lose a reservation on power loss while another shard kept the commit that
    // depended on it, and no open reservation would be left for recovery to finish.
    const encoded = encodeEventRecord({ first, events });
    await this.commit(
      first,
      events.length,
      encoded,
      (events[0] as LedgerEvent).timestamp,
      this.durability === 'strict' || commands.some(isSagaCommand),
    );
    this.afterCommit();
    return results;
  }

  /**
   * submit() for a batch in the thread wire format (batch-codec.ts), with results in that format:
   * the shard worker's path. Plain transfers with new ids go through the plain lane
   * (plain-lane.ts), which builds no command, event or record object; anything else (and any
   * transfer the lane would reject) goes through decide and evolve as in submit(). Same results,
   * state, index entries and log bytes as submit(decodeCommandBatch(bytes));
   * test/plain-lane.prop.test.ts runs the two side by side on random batches.
   */
  async submitEncoded(bytes: Uint8Array): Promise<Uint8Array> {
    this.ensureOpen();
    const view = readCommandBatch(bytes);
    if (view.count > limits.batchSizeMax)
      throw new LedgerError('BATCH_TOO_LARGE', { size: view.count });
    const state = this.state;
    const first = state.lastSequence + 1;
    // Event k of this call (k = 0, 1, ...) gets timestamp now + k, as in submit().
    const now = this.now();
    const results = new ResultBatchWriter(view.count, now);
    const record = new EventRecordBuilder(first, now, view.transfers, view.count);
    // Staged (and visible to lookups) from the start: a later command of this very batch may
    // reuse the id of a transfer the lane applied.
    const run = new PlainRun(view.transfers, now);
    this.index.stageRun(run);
    const events: LedgerEvent[] = [];
    let flush = this.durability === 'strict';
    const decideOne = (command: Command, index: number): void => {
      if (isSagaCommand(command)) flush = true;
      results.set(index, this.apply(command, events, now));
      this.addGeneralEvents(record, events, now, first);
    };
    try {
      const dueAt = state.expiries.peek();
      if (dueAt !== null && dueAt <= now) {
        this.apply({ type: 'ExpirePendingTransfers' }, events, now);
        this.addGeneralEvents(record, events, now, first);
      }
      const historyMask = this.history.enabled ? accountFlags.history : 0;
      const call = { view, results, record, run, first, now };
      runPlainLane(state, this.index.transferIds, historyMask, call, decideOne);
    } catch (error) {
      throw this.applyFailed(error);
    }
    this.plainLaneCount += run.columns.length;
    if (run.columns.length === 0) this.index.unstageRun(run);
    if (record.eventCount === 0) {
      await this.durable;
      return results.encode();
    }
    await this.commit(first, record.eventCount, record.encode(), now, flush);
    this.afterCommit();
    return results.encode();
  }

  /** Moves the events apply() produced into the record; checks their timestamps follow now + k. */
  private addGeneralEvents(
    record: EventRecordBuilder,
    events: LedgerEvent[],
    now: bigint,
    first: number,
  ): void {
    for (const event of events) {
      assert(
        event.timestamp === now + BigInt(record.eventCount),
        'event k of a call has timestamp now + k',
      );
      record.addEvent(event);
    }
    events.length = 0;
    assert(
      first + record.eventCount - 1 === this.state.lastSequence,
      'record and state agree on the sequence',
    );
  }

  /** decide + evolve one command; appends its events and stages their index writes. `now` is
   * read once per submit: commands of one call get now, now + 1 ns, ... */
  private apply(command: Command, events: LedgerEvent[], now: bigint): CommandResult {
    const state = this.state;
    const index = this.index;
    const timestamp = now > state.lastTimestamp ? now : state.lastTimestamp + 1n;
    this.context.timestamp = timestamp;
    const decision = decide(command, state, this.context);
    if (!decision.ok) {
      const result: { status: CommandStatus; statuses?: CommandStatus[] } = {
        status: statusOf(decision.code),
      };
      if (decision.codes !== undefined)
        result.statuses = decision.codes.map((code: RejectionCode) => statusOf(code));
      return result;
    }
    if (decision.events.length === 0) {
      return decision.exists ? { status: 'exists' } : { status: 'ok' };
    }
    for (const event of decision.events) {
      const closing = index.evolve(state, event);
      events.push(event);
      stageIndexWrites(index, this.history, state, event, state.lastSequence, closing);
    }
    return {
      status: 'ok',
      timestamp: (decision.events[0] as LedgerEvent).timestamp,
      sequence: state.lastSequence,
    };
  }

  private async commit(
    first: number,
    count: number,
    encoded: Buffer,
    firstTimestamp: bigint,
    flush: boolean,
  ): Promise<void> {
    const violations = checkBalanceTotals(this.state);
    if (violations.length > 0)
      throw new AssertionError(`double-entry invariant before append: ${violations[0]?.detail}`);
    const last = first + count - 1;
    assert(last === this.state.lastSequence, 'sequence numbers are gapless');
    assert(encoded.length <= limits.eventSizeBytesMax, 'event record within eventSizeBytesMax');
    const injected = this.commitFault?.();
    if (injected !== undefined)
      throw (this.failure = new LedgerError('IO_ERROR', { message: String(injected) }));
    // Write order: log record, then the index entries derived from it, then 'indexedThrough'.
    // lmdb-js commits a prefix of this order, so an index entry is never durable without its
    // event, and recovery re-derives entries past 'indexedThrough' from the log.
    // One block, committed only while the fence token is the one this writer's previous write
    // left (writer-fence.ts): another writer's open, or an earlier failed commit of this one,
    // makes it a no-op, so no commit lands after a failed one and the log never gets a hole.
    let staged: StagedWrites | undefined;
    const fence = this.fence as WriterFence;
    const written = fence.guard(() => {
      void this.db.log.put(first, encoded);
      staged = this.index.flush(this.db);
      void this.db.meta.put(`t${timestampKey(firstTimestamp)}`, first);
      void this.db.meta.put(INDEXED_THROUGH, last);
    });
    const flushed = flush ? this.db.env.flushed : null;
    const durable = this.stop.race(Promise.all([written, flushed])).then(
      ([owned]) => {
        // Refused: nothing was written, memory is ahead of the log; stop for good. An earlier
        // failure of this engine is the cause when there is one, else another writer's open.
        if (!owned) throw this.stop.fail(this.failure ?? fence.refusal());
        this.index.forget(staged as StagedWrites);
      },
      async (error: unknown) => {
        throw this.stop.fail(await storageErrorOf(error, { dir: this.dir, sequence: first }));
      },
    );
    this.durable = durable;
    await durable;
  }

  private afterCommit(): void {
    this.scheduleExpiry();
    const dueByCount =
      this.state.lastSequence - this.lastSnapshotSequence >= this.snapshotIntervalEvents;
    const dueByTime =
      this.snapshotIntervalMs > 0 &&
      this.state.lastSequence > this.lastSnapshotSequence &&
      Date.now() - this.lastSnapshotAtMs >= this.snapshotIntervalMs;
    if ((dueByCount || dueByTime) && this.snapshotRunning === null) {
      this.snapshot().catch(() => {
        // A failed background snapshot is not fatal: recovery uses an older one or the log.
      });
    }
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const dueAt = this.state.expiries.peek();
    if (dueAt === null || this.closed) return;
    const delayMs = Number((dueAt - this.clock()) / 1_000_000n) + 1;
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = null;
        if (this.closed || this.failure !== null) return;
        // Re-arm afterwards: a timer can fire before the deadline (setTimeout clamps delays to
        // 2^31-1 ms, ~24.8 days, below timeoutMsMax), and then no commit would re-arm it.
        this.submit([]).then(
          () => {
            if (this.expiryTimer === null) this.scheduleExpiry();
          },
          () => {
            // Expiry is retried on the next call or timer.
          },
        );
      },
      Math.min(Math.max(delayMs, 0), 2 ** 31 - 1),
    );
    this.expiryTimer.unref();
  }

  // ---- read path --------------------------------------------------------------------------

  /** Resolves once everything applied so far is durable. */
  private async settled(): Promise<void> {
    this.ensureOpen();
    await this.durable;
  }

  async lookupAccounts(ids: readonly string[]): Promise<(AccountView | undefined)[]> {
    this.ensureOpen();
    const found = ids.map((id) => {
      const account = this.state.accounts.get(id);
      return account === undefined ? undefined : accountView(account);
    });
    await this.settled();
    return found;
  }

  async lookupTransfers(ids: readonly string[]): Promise<(TransferRecord | undefined)[]> {
    this.ensureOpen();
    const transfers = this.context.transfers;
    const found = ids.map((id) => {
      const record = transfers.get(id);
      return record === undefined || record.state === 'released' ? undefined : record;
    });
    await this.settled();
    return found;
  }

  async sagaOutcome(sagaId: string): Promise<SagaOutcome | undefined> {
    this.ensureOpen();
    const outcome = this.state.reservations.has(sagaId)
      ? 'reserved'
      : this.context.sagas.get(sagaId);
    await this.settled();
    return outcome;
  }

  async reservation(sagaId: string): Promise<ReservationState | undefined> {
    this.ensureOpen();
    const open = this.state.reservations.get(sagaId);
    await this.settled();
    return open;
  }
  async openReservations(): Promise<ReservationState[]> {
    this.ensureOpen();
    const open = [...this.state.reservations.values()];
    await this.settled();
    return open;
  }

  async accountHistory(
    accountId: string,
    options: { afterSequence?: number; limit?: number } = {},
  ): Promise<HistoryPage> {
    await this.settled();
    return this.history.page(this.state, accountId, options);
  }

  async balanceAsOf(
    accountId: string,
    at: { sequence?: number; timestamp?: bigint },
  ): Promise<AccountView | undefined> {
    await this.settled();
    return this.history.balanceAsOf(this.state, accountId, at);
  }

  async readEvents(afterSequence: number, limit: number): Promise<SequencedEvent[]> {
    // Only what is durable: everything applied before the call is durable once settled.
    const durableThrough = this.state.lastSequence;
    await this.settled();
    return this.log.readEvents(afterSequence, limit, durableThrough);
  }

  async readRecords(afterSequence: number, limitEvents: number): Promise<Uint8Array[]> {
    const durableThrough = this.state.lastSequence;
    await this.settled();
    return this.log.readRecords(afterSequence, limitEvents, durableThrough);
  }

  // ---- verification, snapshots, lifecycle ------------------------------------------------

  async verify(): Promise<VerifyReport> {
    await this.settled();
    const { dir, db, log, state, index } = this;
    return verifyShard({ dir, db, log, state, index });
  }

  async snapshot(): Promise<SnapshotInfo> {
    this.ensureOpen();
    if (this.snapshotRunning !== null) return this.snapshotRunning;
    const started = performance.now();
    const payload = captureState(this.state);
    const pauseMs = performance.now() - started;
    const durable = this.durable;
    this.lastSnapshotSequence = payload.lastSequence;
    this.lastSnapshotAtMs = Date.now();
    const running = (async (): Promise<SnapshotInfo> => {
      // Never write a snapshot ahead of the durable log.
      await durable;
      await this.stop.race(this.db.env.flushed);
      const logDigest = this.log.digestAt(payload.lastSequence);
      assert(logDigest !== undefined, 'the log holds the record a snapshot ends at');
      const file = await this.snapshots.write(payload, logDigest);
      this.snapshots.prune(limits.snapshotsKept);
      return { sequence: file.sequence, file: file.path, sizeBytes: file.sizeBytes, pauseMs };
    })();
    this.snapshotRunning = running;
    try {
      return await running;
    } finally {
      this.snapshotRunning = null;
    }
  }

  /** Backs the shard up into `dir`: beginBackup, then its copy awaited. */
  async backup(dir: string): Promise<BackupInfo> {
    return (await this.beginBackup(dir)).done;
  }

  async beginBackup(dir: string): Promise<BackupCut> {
    this.ensureOpen();
    const started = performance.now();
    await createBackupDir(dir);
    // Everything applied so far is committed once settled, so the cut holds every write
    // answered before this call.
    await this.settled();
    const cut = openCut(this.db);
    const copying = copyCut({
      db: this.db,
      cut,
      snapshots: this.snapshots,
      dir,
      sourceFile: join(this.dir, 'events.mdb'),
    });
    this.backupsRunning.add(copying);
    const done = copying.then((copied): BackupInfo => ({
      dir,
      sequenceAtLeast: cut.sequence,
      ...copied,
      ms: performance.now() - started,
    }));
    void copying.finally(() => this.backupsRunning.delete(copying)).catch(() => undefined);
    // The caller may ask for the outcome later (or never, if it gave up): not an unhandled
    // rejection meanwhile.
    done.catch(() => undefined);
    return { sequence: cut.sequence, done };
  }

  info(): EngineInfo {
    return engineInfo({
      dir: this.dir,
      state: this.state,
      snapshots: this.snapshots,
      transferIds: this.index.transferIds,
      recoveredFromSnapshot: this.recoveredFromSnapshot,
      recoveryMs: this.recoveryMs,
    });
  }

  /** The live state, read-only by convention (tests and the in-process router). */
  get liveState(): LedgerState {
    return this.state;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    try {
      await this.durable;
    } catch {
      // The failure is already recorded; closing goes on.
    }
    if (this.snapshotRunning !== null) await this.snapshotRunning.catch(() => undefined);
    await Promise.allSettled([...this.backupsRunning]);
    await this.closeEnv();
  }

  /** Closes the LMDB environment. After a failed write lmdb-js's close waits for a flush that
   * never comes, so a failed engine starts the close and does not wait for it: nothing of it is
   * written any more, and a new engine (in this process or another) opens the files afresh. */
  private async closeEnv(): Promise<void> {
    const closing = this.db.env.close();
    if (this.failure === null) await closing;
    else void closing.catch(() => undefined);
  }
}
