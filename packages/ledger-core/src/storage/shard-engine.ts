// One shard: the deterministic state machine in memory, its LMDB event log on disk, snapshots,
// recovery and replay. Exactly one ShardEngine may have a shard directory open at a time (the
// router holds a directory lock), and it is the single writer of that LMDB environment.
//
// Write path (submit): decide + evolve each command in memory, then append all events of the
// call as ONE log record (group commit) plus the id-index, saga and history entries, in write
// order: log record first, 'indexedThrough' last. lmdb-js commits a prefix of that order, so after
// a crash the log is the truth and index entries past 'indexedThrough' are re-derived on open.
// The engine holds that commit loop and the lifecycle; the units it drives have their own files.

import { join } from 'node:path';
import { AssertionError, assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import { limits } from '../limits.js';
import { checkBalanceTotals } from '../domain/audit.js';
import { initialState, type LedgerState } from '../domain/state.js';
import { accountFlags, type Command, type LedgerEvent } from '../domain/types.js';
import { encodeEventRecord, EventRecordBuilder } from './event-record.js';
import { readCommandBatch, ResultBatchWriter } from './batch-codec.js';
import { isSagaCommand } from './saga-codec.js';
import type {
  BackupCut,
  BackupInfo,
  CommandResult,
  Durability,
  EngineInfo,
  ShardEngineApi,
  ShardEngineOptions,
  SnapshotInfo,
  VerifyReport,
} from './engine-types.js';
import { openShardDatabases, type ShardDatabases } from './lmdb-env.js';
import { SnapshotStore } from './snapshot-store.js';
import { FailStop } from './fail-stop.js';
import { WriterFence } from './writer-fence.js';
import { checkShardFiles } from './shard-identity.js';
import { createBackupDir } from './backup-copy.js';
import { corruptionOf } from './corruption.js';
import { AccountHistory } from './account-history.js';
import { ShardReads } from './shard-reads.js';
import { EventLog } from './event-log.js';
import { IdIndex } from './id-index.js';
import { addDecidedEvents, PlainRun, runPlainLane } from './plain-lane.js';
import { applyCommand } from './command-apply.js';
import { CommitWriter } from './commit-writer.js';
import {
  checkFormatVersion,
  checkIdentity,
  recordOpenFailure,
  markHistoryIndex,
  recover,
  writeIdentity,
} from './engine-recovery.js';
import { verifyShard } from './shard-verify.js';
import { engineInfo } from './engine-info.js';
import type { IdFilterSnapshot } from './id-filter.js';
import { SnapshotTaker } from './snapshot-taker.js';
import { ShardBackups } from './shard-backups.js';
import { ExpiryTimer } from './expiry-timer.js';
import { mapSizeDefault, wallClock } from './engine-options.js';
import { checkDurability, type RecordReplica } from './replication-hooks.js';

export class ShardEngine extends ShardReads implements ShardEngineApi {
  readonly dir: string;
  private readonly db: ShardDatabases;
  private readonly snapshots: SnapshotStore;
  private readonly durability: Durability;
  private readonly clock: () => bigint;
  private readonly commitFault: (() => Error | undefined) | undefined;
  private readonly replica: RecordReplica | undefined;
  /** The id and saga indexes as decide sees them, with what is staged for the next commit. */
  private readonly index: IdIndex;
  /** Set by the first failed write or broken invariant; the engine then refuses everything. */
  private readonly stop = new FailStop();
  private get failure(): LedgerError | null {
    return this.stop.failure;
  }
  private set failure(error: LedgerError) {
    this.stop.fail(error);
  }
  /** Writes each commit, conditional on this writer's fence (set on open). */
  private writer: CommitWriter | null = null;
  private closed = false;
  private readonly snapshotTaker: SnapshotTaker;
  private readonly backups: ShardBackups;
  private readonly expiry: ExpiryTimer;
  private recoveredFrom = { snapshot: null as number | null, idFilters: false };
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
    super();
    this.dir = options.dir;
    this.db = db;
    this.log = new EventLog(db.log, options.dir);
    this.snapshots = new SnapshotStore(join(options.dir, 'snapshots'));
    this.durability = options.durability ?? 'strict';
    this.clock = options.clock ?? wallClock();
    this.commitFault = options.commitFault;
    this.replica = options.replica;
    this.state = initialState();
    this.index = new IdIndex(db);
    this.context = this.index.context;
    this.history = new AccountHistory(db, this.log, options.accountHistory ?? true);
    this.snapshotTaker = new SnapshotTaker({
      store: this.snapshots,
      log: this.log,
      env: db.env,
      stop: this.stop,
      intervalEvents: options.snapshotIntervalEvents ?? limits.snapshotIntervalEvents,
      intervalMs: options.snapshotIntervalMs ?? limits.snapshotIntervalMs,
    });
    this.backups = new ShardBackups(db, this.snapshots, options.dir);
    const expiring = {
      nextDeadline: () => (this.closed ? null : this.state.expiries.peek()),
      writable: () => !this.closed && this.failure === null,
      expireDue: () => this.submit([]),
    };
    this.expiry = new ExpiryTimer(expiring, this.clock);
  }

  static async open(options: ShardEngineOptions): Promise<ShardEngine> {
    checkDurability(options.durability, options.replica);
    // Before LMDB opens the file: it would create a missing one.
    if (options.identity !== undefined) checkShardFiles(options.dir, options.identity);
    const db = openShardDatabases(options.dir, options.mapSizeBytes ?? mapSizeDefault);
    const engine = new ShardEngine(options, db);
    try {
      await engine.openChecked(options.identity);
    } catch (error) {
      await recordOpenFailure(error, options.dir, engine.stop);
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
    // The fence first: an index loaded (recover) before it could miss an older writer's ids.
    const fence = await WriterFence.take({ env: this.db.env, db: this.db.writer, dir: this.dir });
    const { index, history, snapshots, stop, replica } = this;
    const writer = new CommitWriter({ dir: this.dir, db: this.db, index, fence, stop, replica });
    this.writer = writer;
    this.history.complete = await markHistoryIndex(this.db, this.history.enabled);
    const started = performance.now();
    const recovered = await recover({ ...shard, snapshots, writer, index, history });
    this.state = recovered.state;
    this.recoveredFrom = { snapshot: recovered.fromSnapshot, idFilters: recovered.ids !== null };
    this.snapshotTaker.recoveredFrom(recovered.fromSnapshot ?? 0);
    this.recoveryMs = performance.now() - started;
    this.expiry.arm();
    if (writeIdentityAfter && identity !== undefined)
      await writeIdentity(shard, fence, this.state, identity);
  }

  // ---- write path -------------------------------------------------------------------------
  /** @internal */
  protected ensureOpen(): void {
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
    const call = { view, results, record, run, first, now };
    const decideOne = (command: Command, index: number): void => {
      if (isSagaCommand(command)) flush = true;
      results.set(index, this.apply(command, events, now));
      addDecidedEvents(record, events, call, state.lastSequence);
    };
    try {
      const dueAt = state.expiries.peek();
      if (dueAt !== null && dueAt <= now) {
        this.apply({ type: 'ExpirePendingTransfers' }, events, now);
        addDecidedEvents(record, events, call, state.lastSequence);
      }
      const historyMask = this.history.enabled ? accountFlags.history : 0;
      runPlainLane(state, this.index.transferIds, historyMask, call, decideOne);
    } catch (error) {
      throw this.applyFailed(error);
    }
    this.plainLaneCount += run.count;
    if (run.count === 0) this.index.unstageRun(run);
    if (record.eventCount === 0) {
      await this.durable;
      return results.encode();
    }
    await this.commit(first, record.eventCount, record.encode(), now, flush);
    this.afterCommit();
    return results.encode();
  }

  /** decide + evolve one command (command-apply.ts). */
  private apply(command: Command, events: LedgerEvent[], now: bigint): CommandResult {
    return applyCommand(this.state, this.index, this.history, command, events, now);
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
    const durable = (this.writer as CommitWriter).append(
      first,
      last,
      encoded,
      firstTimestamp,
      flush,
    );
    this.durable = durable;
    await durable;
  }

  private afterCommit(): void {
    this.expiry.arm();
    if (this.snapshotTaker.due(this.state.lastSequence)) {
      this.snapshot().catch(() => {
        // A failed background snapshot is not fatal: recovery uses an older one or the log.
      });
    }
  }

  // ---- verification, snapshots, lifecycle ------------------------------------------------

  async verify(): Promise<VerifyReport> {
    await this.settled();
    const { dir, db, log, state, index } = this;
    return verifyShard({ dir, db, log, state, index, logged: () => this.durable });
  }

  async snapshot(): Promise<SnapshotInfo> {
    this.ensureOpen();
    return this.snapshotTaker.take(this.state, this.durable, () => this.index.images());
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
    return this.backups.begin(dir, started);
  }

  /** A copy of the filter of the transfer ids the shard knows (the router's ledger-wide check). */
  transferIdFilter(): IdFilterSnapshot {
    return this.index.transferIds.filterSnapshot();
  }

  info(): EngineInfo {
    return engineInfo({
      dir: this.dir,
      state: this.state,
      snapshots: this.snapshots,
      transferIds: this.index.transferIds,
      scattered: this.index.scattered,
      recoveredFromSnapshot: this.recoveredFrom.snapshot,
      idFiltersFromSnapshot: this.recoveredFrom.idFilters,
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
    this.expiry.cancel();
    try {
      await this.durable;
    } catch {
      // The failure is already recorded; closing goes on.
    }
    await this.snapshotTaker.idle();
    await this.backups.idle();
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
