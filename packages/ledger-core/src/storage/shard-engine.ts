// One shard: the deterministic state machine in memory, its LMDB event log on disk, snapshots,
// recovery and replay. Exactly one ShardEngine may have a shard directory open at a time (the
// router holds a directory lock), and it is the single writer of that LMDB environment.
//
// Write path (submit): decide + evolve each command in memory, then append all events of the
// call as ONE log record (group commit) plus the id-index, saga and history entries, in write
// order: log record first, 'indexedThrough' last. lmdb-js commits a prefix of that order, so after
// a crash the log is the truth and index entries past 'indexedThrough' are re-derived on open.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { AssertionError, assert } from '../assert.js';
import { LedgerError, statusOf, type RejectionCode } from '../errors.js';
import { limits } from '../limits.js';
import { checkBalanceTotals, auditState, diffStates } from '../domain/audit.js';
import {
  readCounter,
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
} from '../domain/balance.js';
import { decide } from '../domain/decide.js';
import { evolve } from '../domain/evolve.js';
import {
  closedRecordsOf,
  holdResolutionRecordOf,
  indexWritesOf,
  reservedStateOf,
  transferRecordOf,
} from '../domain/records.js';
import { applyPlainTransfer } from '../domain/plain-transfer.js';
import {
  holdLegOf,
  initialState,
  type AccountState,
  type LedgerState,
  type ReservationState,
} from '../domain/state.js';
import {
  accountFlags,
  type TransferCreated,
  type Command,
  type DecideContext,
  type LedgerEvent,
  type SagaOutcome,
  type TransferRecord,
} from '../domain/types.js';
import {
  decodeEventRecord,
  encodeEventRecord,
  type EventRecord,
  EventRecordBuilder,
  timestampKey,
} from './event-record.js';
import { decodeHistoryEntry, encodeHistoryEntry } from './history-entry.js';
import { encodePlainRun, findInPlainRun, idsOfPlainRun, lastIdOfPlainRun } from './plain-run.js';
import { decodeTransferRecord, writeTransferRecord } from './transfer-record.js';
import { ValueArena } from './value-arena.js';
import { readCommandBatch, ResultBatchWriter } from './batch-codec.js';
import { searchAscending } from './sorted-ids.js';
import { isSagaCommand } from './saga-codec.js';
import { encodeSagaRun, findInSagaRun, lastIdOfSagaRun, type SagaRun } from './saga-run.js';
import type { TransferColumnsReader } from './transfer-columns.js';
import type {
  AccountView,
  BackupCut,
  BackupInfo,
  CommandResult,
  CommandStatus,
  Durability,
  EngineInfo,
  HistoryEntry,
  HistoryPage,
  SequencedEvent,
  ShardEngineApi,
  ShardEngineOptions,
  SnapshotInfo,
  VerifyReport,
} from './engine-types.js';
import { openShardDatabases, type ShardDatabases } from './lmdb-env.js';
import { captureState, logRecordDigest, restoreState, SnapshotStore } from './snapshot-store.js';
import { FailStop, storageErrorOf } from './fail-stop.js';
import { WriterFence } from './writer-fence.js';
import {
  checkAccountHomes,
  checkShardFiles,
  checkShardIdentity,
  putShardIdentity,
  readShardIdentity,
} from './shard-identity.js';
import { copyCut, createBackupDir, openCut } from './backup-copy.js';
import { corruptionOf } from './corruption.js';
import { checkChecksum } from './record-checksum.js';
import { IndexAudit } from './index-audit.js';

/** Plain transfers applied by submitEncoded's lane (no record objects): the batch columns they
 * came from, and per transfer its column and timestamp offset. Their ids ascend (each was above
 * every id before it), so a lookup is a binary search. Once written (flushStaged), the run keeps
 * only its encoded value and answers from it: the batch's split columns (tens of thousands of
 * small strings) can then die young instead of living, and being promoted, until the commit is
 * durable. */
class PlainRun {
  readonly columns: number[] = [];
  readonly offsets: number[] = [];
  readonly base: bigint;
  private input: TransferColumnsReader | null;
  private encoded: Buffer | null = null;
  constructor(input: TransferColumnsReader, base: bigint) {
    this.input = input;
    this.base = base;
  }
  /** Encodes the run (codec.ts encodePlainRun) and from then on answers from that value.
   * Returns the index key (the first id) and the value. */
  seal(): { key: string; value: Buffer } {
    const input = this.input;
    assert(input !== null, 'a plain run is sealed once');
    const key = input.ids[this.columns[0] as number] as string;
    const value = encodePlainRun(input, this.columns, this.offsets, this.base);
    this.encoded = value;
    this.input = null;
    return { key, value };
  }
  find(id: string): TransferRecord | undefined {
    if (this.encoded !== null) return findInPlainRun(this.encoded, id);
    const input = this.input as TransferColumnsReader;
    const ids = input.ids;
    const columns = this.columns;
    const at = searchAscending(
      columns.length,
      (index) => ids[columns[index] as number] as string,
      id,
    );
    return at === -1 ? undefined : this.record(input, at);
  }
  private record(input: TransferColumnsReader, at: number): TransferRecord {
    const column = this.columns[at] as number;
    return {
      id: input.ids[column] as string,
      kind: 'transfer',
      debitAccountId: input.debits[column] as string,
      creditAccountId: input.credits[column] as string,
      amount: BigInt(input.columns.amounts[column] as number),
      currency: input.currencies[column] as string,
      pending: false,
      timeoutMs: 0,
      metadata: null,
      timestamp: this.base + BigInt(this.offsets[at] as number),
      pendingId: null,
      state: 'posted',
      postedAmount: null,
      sagaId: null,
    };
  }
}

/** The index record of a side of an open reservation: what FundsReserved used to write, and
 * what closedRecordsOf turns into the closed record. */
function reservedRecord(reservation: ReservationState, id: string): TransferRecord {
  for (const leg of reservation.legs) {
    if (leg.transfer.id === id)
      return transferRecordOf(
        leg.transfer,
        reservation.timestamp,
        reservedStateOf(leg.transfer),
        reservation.sagaId,
      );
  }
  throw new AssertionError("a reserved transfer id is one of its reservation's legs");
}

interface Staged {
  readonly records: TransferRecord[];
  /** Saga outcomes outside the run (ids not above the saga-id max when staged). */
  readonly sagas: [string, SagaOutcome][];
  /** Saga outcomes whose ids were each above every saga id before: one saga run. */
  readonly sagaRun: SagaRun;
  readonly history: [[number, number], Buffer][];
  readonly runs: PlainRun[];
}

/** The longest verify() replays without giving the worker's thread to queued writes. */
const verifySliceMs = 20;
const DEFAULT_MAP_SIZE = 64 * 1024 ** 3;
const INDEXED_THROUGH = 'indexedThrough';
/** Set once the dir was opened with accountHistory off (see historyIndexComplete). */
const HISTORY_INCOMPLETE = 'historyIncomplete';
/** The shard dir's storage format. Absent = 1. Version 2 added the `runs` and `sagaRuns` dbs and
 * keeps open reservations out of the id and saga indexes (in the log and in memory only). Version 3
 * puts a checksum on every log record written (record-checksum.ts); older records are read as
 * they are. A build
 * reads every version up to its own, raises the stored one on open, and refuses a newer one: an
 * older build would miss what a newer layout stores elsewhere. */
const FORMAT_VERSION = 'formatVersion';
export const shardFormatVersion = 3;

/** The value of a runs db (plain or saga runs, keyed by their first id) with the greatest key
 * <= `key` (the one run that may hold it), or the last run when `key` is omitted. */
function runAtOrBelow(db: ShardDatabases['runs'], key?: string): Buffer | undefined {
  for (const { value } of db.getRange(
    key === undefined ? { reverse: true, limit: 1 } : { start: key, reverse: true, limit: 1 },
  ))
    return value;
  return undefined;
}

function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index += 1)
    if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

/** Wall clock in nanoseconds since the epoch, monotonic within the process. */
function wallClock(): () => bigint {
  const offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => process.hrtime.bigint() + offset;
}

export function accountView(account: AccountState): AccountView {
  const counters = account.counters;
  const debitsPosted = readCounter(counters, DEBITS_POSTED);
  const creditsPosted = readCounter(counters, CREDITS_POSTED);
  const debitsPending = readCounter(counters, DEBITS_PENDING);
  return {
    id: account.id,
    currency: account.currency,
    debitsMustNotExceedCredits: (account.flags & accountFlags.debitsMustNotExceedCredits) !== 0,
    creditsMustNotExceedDebits: (account.flags & accountFlags.creditsMustNotExceedDebits) !== 0,
    history: (account.flags & accountFlags.history) !== 0,
    metadata: account.metadata,
    timestamp: account.timestamp,
    debitsPosted,
    creditsPosted,
    debitsPending,
    creditsPending: readCounter(counters, CREDITS_PENDING),
    balance: creditsPosted - debitsPosted,
    available: creditsPosted - debitsPosted - debitsPending,
  };
}

/** Which accounts an event posts to, for the history index. */
function postingsOf(event: LedgerEvent): { accountId: string; transferId: string }[] {
  switch (event.type) {
    case 'AccountCreated':
      return [];
    case 'TransferCreated':
      return [
        { accountId: event.transfer.debitAccountId, transferId: event.transfer.id },
        { accountId: event.transfer.creditAccountId, transferId: event.transfer.id },
      ];
    case 'PendingTransferPosted':
    case 'PendingTransferVoided':
      return [
        { accountId: event.debitAccountId, transferId: event.id },
        { accountId: event.creditAccountId, transferId: event.id },
      ];
    case 'PendingTransferExpired':
      return [
        { accountId: event.debitAccountId, transferId: event.pendingId },
        { accountId: event.creditAccountId, transferId: event.pendingId },
      ];
    case 'FundsReserved':
    case 'ReservationCommitted':
    case 'ReservationReleased':
      return event.legs.map((leg) => ({
        accountId:
          leg.side === 'debit' ? leg.transfer.debitAccountId : leg.transfer.creditAccountId,
        transferId: leg.transfer.id,
      }));
  }
}

export class ShardEngine implements ShardEngineApi {
  readonly dir: string;
  private readonly db: ShardDatabases;
  private readonly snapshots: SnapshotStore;
  private readonly durability: Durability;
  private readonly clock: () => bigint;
  private readonly commitFault: (() => Error | undefined) | undefined;
  private readonly accountHistoryEnabled: boolean;
  /** False once this dir was ever written with accountHistory off: the history index then has
   * holes, so history and balance-as-of scan the log (exact) for every account. */
  private historyIndexComplete = true;
  private readonly snapshotIntervalEvents: number;
  private readonly snapshotIntervalMs: number;
  private state: LedgerState;
  /** Records and saga outcomes written but not yet committed (LMDB reads can't see them yet). */
  private readonly pendingRecords = new Map<string, TransferRecord>();
  private readonly pendingSagas = new Map<string, SagaOutcome>();
  /** Transfer id -> the open reservation holding it: the 'reserved' records of the id index,
   * kept in memory instead of written (see reservedRecord). Derived from state.reservations:
   * maintained by writeIndexes, rebuilt after recovery. Bounded by the open reservations. */
  private readonly reservedTransfers = new Map<string, ReservationState>();
  private readonly context: DecideContext & { timestamp: bigint };
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
  private staged: Staged = {
    records: [],
    sagas: [],
    sagaRun: { ids: [], outcomes: [] },
    history: [],
    runs: [],
  };
  /** Runs of plain transfers written but not yet committed, oldest first (see PlainRun). */
  private readonly pendingRuns: PlainRun[] = [];
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
  /** The greatest transfer id stored or staged, while every id seen is ASCII (then JavaScript's
   * string order equals LMDB's byte order and `id > max` proves an id is new). */
  private readonly ids = { max: '', fastPath: true };
  /** Whether any account has the history flag: until one does, no transfer needs the two
   * account lookups of historyOf on the hot path. Set on recovery and when such an account is
   * created; never cleared (accounts are never deleted). */
  private anyHistoryAccount = false;

  private noteTransferId(id: string): void {
    if (!isAscii(id)) this.ids.fastPath = false;
    else if (id > this.ids.max) this.ids.max = id;
  }
  /** The same for saga ids: the greatest saga id in the saga index (stored or staged), while
   * every one seen is ASCII. The router's saga ids start with the saga's first transfer id, so
   * with time-ordered transfer ids a new saga's id is above it and decideReserve's saga lookup
   * needs no LMDB read; the outcomes staged above it go into saga runs (stageSagaOutcome).
   * Restored on open from the index's last key and the last run's last id (LMDB orders keys by
   * their bytes, which for ASCII is JavaScript's string order); every outcome staged afterwards, the
   * tombstones recovery writes included, goes through writeIndexes, which notes its id. Open
   * sagas have no index entry (records.ts): decide and sagaOutcome find their reservation first. */
  private readonly sagaIds = { max: '', fastPath: true };

  /** Notes a saga id in the index; returns whether it was above every one before (on the fast
   * path), which is what lets it join this commit's saga run. */
  private noteSagaId(id: string): boolean {
    const known = this.sagaIds;
    if (!isAscii(id)) {
      known.fastPath = false;
      return false;
    }
    if (id <= known.max) return false;
    known.max = id;
    return known.fastPath;
  }

  private constructor(options: ShardEngineOptions, db: ShardDatabases) {
    this.dir = options.dir;
    this.db = db;
    this.snapshots = new SnapshotStore(join(options.dir, 'snapshots'));
    this.durability = options.durability ?? 'strict';
    this.clock = options.clock ?? wallClock();
    this.commitFault = options.commitFault;
    this.accountHistoryEnabled = options.accountHistory ?? true;
    this.snapshotIntervalEvents = options.snapshotIntervalEvents ?? limits.snapshotIntervalEvents;
    this.snapshotIntervalMs = options.snapshotIntervalMs ?? limits.snapshotIntervalMs;
    this.state = initialState();
    const records = this.pendingRecords;
    const runs = this.pendingRuns;
    const sagas = this.pendingSagas;
    const transfersDb = db.transfers;
    const runsDb = db.runs;
    const sagasDb = db.sagas;
    for (const { key } of transfersDb.getRange({ reverse: true, limit: 1 }))
      this.noteTransferId(key);
    const lastRun = runAtOrBelow(runsDb);
    if (lastRun !== undefined) this.noteTransferId(lastIdOfPlainRun(lastRun));
    const sagaRunsDb = db.sagaRuns;
    for (const { key } of sagasDb.getRange({ reverse: true, limit: 1 })) this.noteSagaId(key);
    const lastSagaRun = runAtOrBelow(sagaRunsDb);
    if (lastSagaRun !== undefined) this.noteSagaId(lastIdOfSagaRun(lastSagaRun));
    const ids = this.ids;
    const sagaIds = this.sagaIds;
    const reserved = this.reservedTransfers;
    this.context = {
      timestamp: 0n,
      transfers: {
        get(id: string): TransferRecord | undefined {
          // Time-ordered ids (the recommended kind) are above every id stored: no disk lookup.
          if (ids.fastPath && id > ids.max && isAscii(id)) return undefined;
          // First: an older record of the id (released) may be staged or stored.
          const reservation = reserved.get(id);
          if (reservation !== undefined) return reservedRecord(reservation, id);
          const staged = records.get(id);
          if (staged !== undefined) return staged;
          for (let index = runs.length - 1; index >= 0; index -= 1) {
            const found = (runs[index] as PlainRun).find(id);
            if (found !== undefined) return found;
          }
          const bytes = transfersDb.getBinaryFast(id);
          if (bytes !== undefined) return decodeTransferRecord(id, bytes);
          // The lane's runs: the one with the greatest first id <= id may hold it.
          const run = runAtOrBelow(runsDb, id);
          return run === undefined ? undefined : findInPlainRun(run, id);
        },
      },
      sagas: {
        get(sagaId: string): SagaOutcome | undefined {
          // Above every saga id in the index (see sagaIds): never stored, no disk lookup.
          if (sagaIds.fastPath && sagaId > sagaIds.max && isAscii(sagaId)) return undefined;
          const found = sagas.get(sagaId) ?? (sagasDb.get(sagaId) as SagaOutcome | undefined);
          if (found !== undefined) return found;
          // The saga runs: the one with the greatest first id <= sagaId may hold it.
          const run = runAtOrBelow(sagaRunsDb, sagaId);
          return run === undefined ? undefined : findInSagaRun(run, sagaId);
        },
      },
    };
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
      const writeIdentity =
        options.identity !== undefined && engine.checkIdentity(options.identity);
      await engine.checkFormatVersion();
      engine.fence = await WriterFence.take({ env: db.env, db: db.writer, dir: options.dir });
      await engine.markHistoryIndex();
      await engine.recover();
      if (writeIdentity && options.identity !== undefined)
        await engine.writeIdentity(options.identity);
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

  // ---- recovery ---------------------------------------------------------------------------

  /** Refuses a dir that is not the expected shard; returns whether its identity is to be written
   * (a new shard, or a shard of an older dir that holds what every earlier open wrote). */
  private checkIdentity(expected: NonNullable<ShardEngineOptions['identity']>): boolean {
    const meta = this.db.meta as unknown as Parameters<typeof readShardIdentity>[0];
    const looksWritten =
      this.db.meta.get(FORMAT_VERSION) !== undefined || this.lastLoggedSequence() > 0;
    return checkShardIdentity({
      stored: readShardIdentity(meta),
      expected,
      dir: this.dir,
      looksWritten,
    });
  }

  /** Writes the identity, durably, once recovered: for an older dir only after every account
   * was found where the partition map routes it. */
  private async writeIdentity(
    expected: NonNullable<ShardEngineOptions['identity']>,
  ): Promise<void> {
    checkAccountHomes(this.state.accounts.keys(), expected, this.dir);
    const meta = this.db.meta as unknown as Parameters<typeof putShardIdentity>[0];
    const written = await (this.fence as WriterFence).guard(() => putShardIdentity(meta, expected));
    if (!written) throw (this.fence as WriterFence).refusal();
    await this.db.env.flushed;
  }

  /** Refuses a dir written in a newer format; raises an older one's version, durably, before any
   * write in this format. */
  private async checkFormatVersion(): Promise<void> {
    const stored: unknown = this.db.meta.get(FORMAT_VERSION) ?? 1;
    if (
      typeof stored !== 'number' ||
      !Number.isSafeInteger(stored) ||
      stored > shardFormatVersion
    ) {
      throw new LedgerError('NOT_A_LEDGER', {
        dir: this.dir,
        problem: `shard formatVersion ${String(stored)} is not readable by this build (${shardFormatVersion})`,
      });
    }
    if (stored < shardFormatVersion) {
      await this.db.meta.put(FORMAT_VERSION, shardFormatVersion);
      await this.db.env.flushed;
    }
  }

  /** Records, durably and before any write, that this dir is being written without the history
   * index; reads whether that ever happened. */
  private async markHistoryIndex(): Promise<void> {
    if (!this.accountHistoryEnabled) {
      if (this.db.meta.get(HISTORY_INCOMPLETE) === undefined) {
        await this.db.meta.put(HISTORY_INCOMPLETE, 1);
        await this.db.env.flushed;
      }
    }
    this.historyIndexComplete = this.db.meta.get(HISTORY_INCOMPLETE) === undefined;
  }

  /** The digest a snapshot at `sequence` is bound to (snapshot-store.ts): of the log record
   * that holds that sequence; of no bytes at sequence 0. Undefined when the log has no record
   * there. */
  private logDigestAt(sequence: number): Buffer | undefined {
    if (sequence === 0) return logRecordDigest(new Uint8Array(0));
    for (const { value } of this.db.log.getRange({ start: sequence, reverse: true, limit: 1 }))
      return logRecordDigest(value);
    return undefined;
  }

  /** A log record, decoded and checked; damage is STORAGE_CORRUPT naming this shard and the
   * record's first sequence (its key: the record's own bytes are what cannot be trusted). */
  private decodeLogRecord(key: number, value: Uint8Array): EventRecord {
    try {
      return decodeEventRecord(value);
    } catch (error) {
      throw (
        corruptionOf(error, { dir: this.dir, sequence: key }) ??
        new LedgerError('STORAGE_CORRUPT', { dir: this.dir, sequence: key, problem: String(error) })
      );
    }
  }

  private lastLoggedSequence(): number {
    for (const { key, value } of this.db.log.getRange({ reverse: true, limit: 1 })) {
      const record = this.decodeLogRecord(key, value);
      return record.first + record.events.length - 1;
    }
    return 0;
  }

  private async recover(): Promise<void> {
    const started = performance.now();
    const lastSequence = this.lastLoggedSequence();
    // A snapshot ahead of the log describes events the log does not have (lost to a power cut
    // through a disk cache that lied about its flush, or a log restored without its snapshots).
    // Skipping it is not enough: the log would grow past it with other events, and the next
    // open would trust it. So it is moved aside, durably, before anything is appended; never
    // deleted (it may be the last copy of those events). A missing or empty log never gets here
    // in a ledger: the shard's identity check refuses it first (shard-identity.ts).
    const snapshots = this.snapshots.list();
    await this.snapshots.setAside(snapshots.filter((file) => file.sequence > lastSequence));
    for (const file of snapshots) {
      if (file.sequence > lastSequence) continue; // just deleted
      const state = this.snapshots.load(file.path, (sequence) => this.logDigestAt(sequence));
      if (state !== null) {
        this.state = state;
        this.recoveredFromSnapshot = file.sequence;
        this.lastSnapshotSequence = file.sequence;
        break;
      }
    }
    for (const account of this.state.accounts.values()) {
      if ((account.flags & accountFlags.history) !== 0) this.anyHistoryAccount = true;
    }
    for (const reservation of this.state.reservations.values()) this.noteReserved(reservation);
    const indexedThrough = (this.db.meta.get(INDEXED_THROUGH) as number | undefined) ?? 0;
    for (const { sequence, event } of this.iterateEvents(this.state.lastSequence)) {
      assert(sequence === this.state.lastSequence + 1, 'log is gapless');
      const closing = this.evolveTracked(event);
      if (event.type === 'AccountCreated' && (event.account.flags & accountFlags.history) !== 0)
        this.anyHistoryAccount = true;
      if (sequence > indexedThrough) this.writeIndexes(event, sequence, closing);
    }
    assert(this.state.lastSequence === lastSequence, 'recovered to the end of the log');
    const violations = checkBalanceTotals(this.state);
    if (violations.length > 0)
      throw new LedgerError('STORAGE_CORRUPT', { violation: violations[0]?.detail ?? '' });
    if (lastSequence > indexedThrough) {
      let staged: Staged | undefined;
      const fence = this.fence as WriterFence;
      const done = fence.guard(() => {
        staged = this.flushStaged();
        void this.db.meta.put(INDEXED_THROUGH, lastSequence);
      });
      const [owned] = await this.stop.race(Promise.all([done, this.db.env.flushed]));
      if (!owned) throw fence.refusal();
      this.forgetStaged(staged as Staged);
    }
    this.recoveryMs = performance.now() - started;
    this.scheduleExpiry();
  }

  /** Events with sequence > after, in order, from the log. */
  private *iterateEvents(after: number): Generator<SequencedEvent> {
    let start = after + 1;
    for (const { key } of this.db.log.getRange({ start: after + 1, reverse: true, limit: 1 }))
      start = key;
    for (const { key, value } of this.db.log.getRange({ start })) {
      const record = this.decodeLogRecord(key, value);
      for (let index = 0; index < record.events.length; index += 1) {
        const sequence = record.first + index;
        if (sequence > after) yield { sequence, event: record.events[index] as LedgerEvent };
      }
    }
  }

  // ---- write path -------------------------------------------------------------------------

  private ensureOpen(): void {
    if (this.failure !== null) throw this.failure;
    if (this.closed) throw new LedgerError('LEDGER_CLOSED');
  }

  /** evolve, keeping reservedTransfers equal to the open reservations' transfer ids (live and
   * in recovery, every event). Returns the reservation the event closed, if it closed one. */
  private evolveTracked(event: LedgerEvent): ReservationState | undefined {
    const state = this.state;
    if (event.type === 'ReservationCommitted' || event.type === 'ReservationReleased') {
      const closing = state.reservations.get(event.sagaId);
      evolve(state, event);
      if (closing !== undefined) {
        // Two passes: a transfer with both sides on this shard is two legs with one id.
        for (const leg of closing.legs)
          assert(
            this.reservedTransfers.get(leg.transfer.id) === closing,
            'a closed side was reserved by its saga',
          );
        for (const leg of closing.legs) this.reservedTransfers.delete(leg.transfer.id);
      }
      return closing;
    }
    evolve(state, event);
    if (event.type === 'FundsReserved') {
      const reservation = state.reservations.get(event.sagaId);
      assert(
        reservation !== undefined && reservation.legs === event.legs,
        'the reservation is open after FundsReserved',
      );
      this.noteReserved(reservation);
    }
    return undefined;
  }

  /** Stages the index writes an applied event implies (and its history entries). They become
   * visible to decide at once (pendingRecords) and are written after the log record. `closing`:
   * for ReservationCommitted/Released, the reservation it closed (reservationClosedBy). */
  private writeIndexes(
    event: LedgerEvent,
    sequence: number,
    closing: ReservationState | undefined,
  ): void {
    const staged = this.staged;
    if (event.type === 'AccountCreated' && (event.account.flags & accountFlags.history) !== 0)
      this.anyHistoryAccount = true;
    if (event.type === 'TransferCreated' && !this.historyOf(event)) {
      // The hot path: one new record, no updates, no saga, no history (same as indexWritesOf).
      const spec = event.transfer;
      const record = transferRecordOf(
        spec,
        event.timestamp,
        spec.pending ? 'pending' : 'posted',
        null,
      );
      this.noteTransferId(record.id);
      this.pendingRecords.set(record.id, record);
      staged.records.push(record);
      return;
    }
    if (event.type === 'FundsReserved') {
      // No writes: the sides' 'reserved' records are the open reservation (reservedTransfers).
    } else if (
      closing !== undefined &&
      (event.type === 'ReservationCommitted' || event.type === 'ReservationReleased')
    ) {
      // The sides' records follow from the reservation: no read of the index (closedRecordsOf).
      assert(closing.sagaId === event.sagaId, "the closed reservation is the event's saga");
      const committed = event.type === 'ReservationCommitted';
      for (const record of closedRecordsOf(closing, event)) {
        this.pendingRecords.set(record.id, record);
        staged.records.push(record);
      }
      // The post or void of a cross-shard hold, on the shard that decided it.
      const resolution = holdResolutionRecordOf(event);
      if (resolution !== null) {
        this.noteTransferId(resolution.id);
        this.pendingRecords.set(resolution.id, resolution);
        staged.records.push(resolution);
      }
      this.stageSagaOutcome(event.sagaId, committed ? 'committed' : 'released');
    } else {
      const writes = indexWritesOf(event);
      for (const record of writes.transfers) {
        this.noteTransferId(record.id);
        this.pendingRecords.set(record.id, record);
        staged.records.push(record);
      }
      for (const { id, change } of writes.updates) {
        const current = this.context.transfers.get(id);
        if (current === undefined) continue;
        const record = { ...current, ...change };
        this.pendingRecords.set(id, record);
        staged.records.push(record);
      }
      if (writes.saga !== null) this.stageSagaOutcome(writes.saga.sagaId, writes.saga.outcome);
    }
    // Until an account has the history flag, no posting has an entry (as historyOf above).
    if (this.accountHistoryEnabled && this.anyHistoryAccount && event.type !== 'AccountCreated') {
      const postings = postingsOf(event);
      for (let index = 0; index < postings.length; index += 1) {
        const posting = postings[index] as { accountId: string; transferId: string };
        // One entry per (account, sequence), its first posting, as scannedPostings gives: the
        // key is [ordinal, sequence], so a second leg of the account would overwrite it.
        if (postings.findIndex((other) => other.accountId === posting.accountId) !== index)
          continue;
        const account = this.state.accounts.get(posting.accountId);
        assert(account !== undefined, 'history of a known account');
        if ((account.flags & accountFlags.history) === 0) continue;
        staged.history.push([
          [account.ordinal, sequence],
          encodeHistoryEntry(event.type, posting.transferId, event.timestamp, account.counters),
        ]);
      }
    }
  }

  /** Makes a reservation's transfer ids known as reserved (and to the transfer-id max). */
  private noteReserved(reservation: ReservationState): void {
    for (const leg of reservation.legs) {
      this.noteTransferId(leg.transfer.id);
      this.reservedTransfers.set(leg.transfer.id, reservation);
    }
  }

  /** Stages a final saga outcome: into this commit's saga run when its id is above every saga
   * id before it (so runs never overlap), else as its own entry of the saga index. */
  private stageSagaOutcome(sagaId: string, outcome: SagaOutcome): void {
    this.pendingSagas.set(sagaId, outcome);
    if (this.noteSagaId(sagaId)) {
      this.staged.sagaRun.ids.push(sagaId);
      this.staged.sagaRun.outcomes.push(outcome);
    } else {
      this.staged.sagas.push([sagaId, outcome]);
    }
  }

  /** Whether a TransferCreated posts to an account whose history is indexed. */
  private historyOf(event: TransferCreated): boolean {
    if (!this.accountHistoryEnabled || !this.anyHistoryAccount) return false;
    const debit = this.state.accounts.get(event.transfer.debitAccountId);
    const credit = this.state.accounts.get(event.transfer.creditAccountId);
    return (
      ((debit?.flags ?? 0) & accountFlags.history) !== 0 ||
      ((credit?.flags ?? 0) & accountFlags.history) !== 0
    );
  }

  /** Issues the staged index writes (after the log record they derive from) and returns what
   * was staged, so that the staging maps can be cleared once it is committed. */
  private flushStaged(): Staged {
    const staged = this.staged;
    this.staged = {
      records: [],
      sagas: [],
      sagaRun: { ids: [], outcomes: [] },
      history: [],
      runs: [],
    };
    const arena = new ValueArena(Math.max(4096, staged.records.length * 96));
    const transfersDb = this.db.transfers;
    for (const run of staged.runs) {
      const { key, value } = run.seal();
      void this.db.runs.put(key, value);
    }
    for (const record of staged.records) {
      writeTransferRecord(arena, record);
      void transfersDb.put(record.id, arena.take());
    }
    for (const [sagaId, outcome] of staged.sagas) void this.db.sagas.put(sagaId, outcome);
    if (staged.sagaRun.ids.length > 0)
      void this.db.sagaRuns.put(staged.sagaRun.ids[0] as string, encodeSagaRun(staged.sagaRun));
    for (const [key, value] of staged.history) void this.db.history.put(key, value);
    return staged;
  }

  private forgetStaged(staged: Staged): void {
    for (const record of staged.records) {
      if (this.pendingRecords.get(record.id) === record) this.pendingRecords.delete(record.id);
    }
    const forgetSaga = (sagaId: string, outcome: SagaOutcome | undefined): void => {
      if (this.pendingSagas.get(sagaId) === outcome) this.pendingSagas.delete(sagaId);
    };
    for (const [sagaId, outcome] of staged.sagas) forgetSaga(sagaId, outcome);
    staged.sagaRun.ids.forEach((sagaId, index) =>
      forgetSaga(sagaId, staged.sagaRun.outcomes[index]),
    );
    for (const run of staged.runs) {
      const at = this.pendingRuns.indexOf(run);
      if (at >= 0) this.pendingRuns.splice(at, 1);
    }
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
    let now = this.clock();
    if (now <= this.state.lastTimestamp) now = this.state.lastTimestamp + 1n;
    const dueAt = this.state.expiries.peek();
    if (dueAt !== null && dueAt <= now) this.apply({ type: 'ExpirePendingTransfers' }, events, now);
    try {
      for (let index = 0; index < commands.length; index += 1) {
        results[index] = this.apply(commands[index] as Command, events, now);
      }
    } catch (error) {
      // A throw here is a bug (decide and evolve reject with data): memory may be ahead of the
      // log, so this engine stops; reopening recovers from the log. A damaged index page met by
      // a lookup is not a bug: it is reported as what it is.
      this.failure =
        corruptionOf(error, { dir: this.dir }) ??
        new LedgerError('ASSERTION_FAILED', { message: String(error) });
      throw this.failure;
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
   * the shard worker's path. A plain transfer (TransferColumnsReader.isPlain) whose id is new by
   * the time-ordered-id rule and whose accounts pass every check on exact number counters is
   * applied by a lane that builds no command, event or record object; anything else (and any
   * transfer the lane would reject) goes through decide and evolve as in submit(). Same results,
   * state, index entries and log bytes as submit(decodeCommandBatch(bytes)); the lane is
   * decideCreateTransfer + evolve specialised for that case, and test/plain-lane.prop.test.ts
   * runs the two side by side on random batches.
   */
  async submitEncoded(bytes: Uint8Array): Promise<Uint8Array> {
    this.ensureOpen();
    const view = readCommandBatch(bytes);
    if (view.count > limits.batchSizeMax)
      throw new LedgerError('BATCH_TOO_LARGE', { size: view.count });
    const state = this.state;
    const first = state.lastSequence + 1;
    // Event k of this call (k = 0, 1, ...) gets timestamp now + k, as in submit().
    let now = this.clock();
    if (now <= state.lastTimestamp) now = state.lastTimestamp + 1n;
    const input = view.transfers;
    const results = new ResultBatchWriter(view.count, now);
    const record = new EventRecordBuilder(first, now, input, view.count);
    // Staged (and visible to lookups) from the start: a later command of this very batch may
    // reuse the id of a transfer the lane applied.
    const run = new PlainRun(input, now);
    this.staged.runs.push(run);
    this.pendingRuns.push(run);
    const events: LedgerEvent[] = [];
    let flush = this.durability === 'strict';
    try {
      const dueAt = state.expiries.peek();
      if (dueAt !== null && dueAt <= now) {
        this.apply({ type: 'ExpirePendingTransfers' }, events, now);
        this.addGeneralEvents(record, events, now, first);
      }
      const { ids, debits, credits } = input;
      const sameCurrency = input.sameCurrency;
      const currencies = sameCurrency === null ? input.currencies : null;
      const amounts = input.columns.amounts;
      // One native pass instead of isAscii per id: UTF-8 is longer than UTF-16 exactly when a
      // code unit is above 0x7f.
      const idsAscii = Buffer.byteLength(input.columns.ids, 'utf8') === input.columns.ids.length;
      const known = this.ids;
      const historyMask = this.accountHistoryEnabled ? accountFlags.history : 0;
      // Whether state.lastTimestamp trails events the lane applied (it is set lazily).
      let timestampBehind = false;
      let column = 0;
      for (let index = 0; index < view.count; index += 1) {
        const other = view.onlyTransfers ? undefined : view.others[index];
        if (other === undefined) {
          const id = ids[column] as string;
          if (
            known.fastPath &&
            id > known.max &&
            input.isPlain(column) &&
            (idsAscii || isAscii(id))
          ) {
            if (
              applyPlainTransfer(
                state,
                debits[column] as string,
                credits[column] as string,
                sameCurrency ?? ((currencies as string[])[column] as string),
                amounts[column] as number,
                historyMask,
              )
            ) {
              const sequence = state.lastSequence + 1;
              state.lastSequence = sequence;
              timestampBehind = true;
              const offset = sequence - first;
              record.addInputTransfer(column, offset);
              run.columns.push(column);
              run.offsets.push(offset);
              known.max = id;
              results.ok(index, sequence, offset);
              column += 1;
              continue;
            }
          }
        }
        // Everything else: decide + evolve.
        if (timestampBehind) {
          state.lastTimestamp = now + BigInt(state.lastSequence - first);
          timestampBehind = false;
        }
        let command: Command;
        if (other === undefined) {
          command = { type: 'CreateTransfer', transfer: input.spec(column) };
          column += 1;
        } else {
          command = other;
          if (isSagaCommand(command)) flush = true;
        }
        results.set(index, this.apply(command, events, now));
        this.addGeneralEvents(record, events, now, first);
      }
      assert(column === input.count, 'every transfer column used');
      if (timestampBehind) state.lastTimestamp = now + BigInt(state.lastSequence - first);
    } catch (error) {
      // As in submit(): a throw is a bug (or damage); memory may be ahead of the log, so this engine stops.
      this.failure =
        corruptionOf(error, { dir: this.dir }) ??
        new LedgerError('ASSERTION_FAILED', { message: String(error) });
      throw this.failure;
    }
    this.plainLaneCount += run.columns.length;
    if (run.columns.length === 0) {
      this.staged.runs.splice(this.staged.runs.indexOf(run), 1);
      this.pendingRuns.splice(this.pendingRuns.indexOf(run), 1);
    }
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

  /** decide + evolve one command; appends its events and stages their index writes. */
  /** `now` is read once per submit: commands of one call get now, now + 1 ns, ... */
  private apply(command: Command, events: LedgerEvent[], now: bigint): CommandResult {
    const state = this.state;
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
      const closing = this.evolveTracked(event);
      events.push(event);
      this.writeIndexes(event, state.lastSequence, closing);
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
    let staged: Staged | undefined;
    const fence = this.fence as WriterFence;
    const written = fence.guard(() => {
      void this.db.log.put(first, encoded);
      staged = this.flushStaged();
      void this.db.meta.put(`t${timestampKey(firstTimestamp)}`, first);
      void this.db.meta.put(INDEXED_THROUGH, last);
    });
    const flushed = flush ? this.db.env.flushed : null;
    const durable = this.stop.race(Promise.all([written, flushed])).then(
      ([owned]) => {
        // Refused: nothing was written, memory is ahead of the log; stop for good. An earlier
        // failure of this engine is the cause when there is one, else another writer's open.
        if (!owned) throw this.stop.fail(this.failure ?? fence.refusal());
        this.forgetStaged(staged as Staged);
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
    const found = ids.map((id) => {
      const record = this.context.transfers.get(id);
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

  private indexed(account: AccountState): boolean {
    return (
      this.accountHistoryEnabled &&
      this.historyIndexComplete &&
      (account.flags & accountFlags.history) !== 0
    );
  }

  /** The account's postings read from the history index (accounts with the history flag). */
  private *indexedPostings(account: AccountState, afterSequence: number): Generator<HistoryEntry> {
    const range = this.db.history.getRange({
      start: [account.ordinal, afterSequence + 1],
      end: [account.ordinal + 1, 0],
    });
    for (const { key, value } of range) {
      const entry = decodeHistoryEntry(value);
      yield {
        sequence: key[1],
        timestamp: entry.timestamp,
        transferId: entry.transferId,
        eventType: entry.eventType,
        debitsPosted: entry.counters[0],
        creditsPosted: entry.counters[1],
        debitsPending: entry.counters[2],
        creditsPending: entry.counters[3],
      };
    }
  }

  /** The same postings found by replaying the log into a scratch state (accounts without the
   * history flag): exact, but O(log) per call. */
  private *scannedPostings(accountId: string, afterSequence: number): Generator<HistoryEntry> {
    const scratch = initialState();
    const last = this.state.lastSequence;
    for (const { sequence, event } of this.iterateEvents(0)) {
      if (sequence > last) return;
      evolve(scratch, event);
      if (sequence <= afterSequence) continue;
      // One entry per (sequence, account), as in the index: several legs of one account in one
      // saga event give one entry with the counters after the whole event.
      for (const posting of postingsOf(event).filter(
        (item, index, all) =>
          all.findIndex((other) => other.accountId === item.accountId) === index,
      )) {
        if (posting.accountId !== accountId) continue;
        const view = accountView(scratch.accounts.get(accountId) as AccountState);
        yield {
          sequence,
          timestamp: event.timestamp,
          transferId: posting.transferId,
          eventType: event.type,
          debitsPosted: view.debitsPosted,
          creditsPosted: view.creditsPosted,
          debitsPending: view.debitsPending,
          creditsPending: view.creditsPending,
        };
      }
    }
  }

  private postings(account: AccountState, afterSequence: number): Generator<HistoryEntry> {
    return this.indexed(account)
      ? this.indexedPostings(account, afterSequence)
      : this.scannedPostings(account.id, afterSequence);
  }

  async accountHistory(
    accountId: string,
    options: { afterSequence?: number; limit?: number } = {},
  ): Promise<HistoryPage> {
    await this.settled();
    const limit = Math.min(options.limit ?? 100, limits.pageSizeMax);
    if (!Number.isSafeInteger(limit) || limit <= 0)
      throw new LedgerError('INVALID_ARGUMENT', { limit });
    const account = this.state.accounts.get(accountId);
    if (account === undefined) return { entries: [], nextAfterSequence: null };
    const entries: HistoryEntry[] = [];
    for (const entry of this.postings(account, options.afterSequence ?? 0)) {
      // Both legs of a transfer within one shard post to different accounts, so one entry per
      // (sequence, account); the page ends between sequences.
      if (entries.length === limit)
        return { entries, nextAfterSequence: (entries[limit - 1] as HistoryEntry).sequence };
      entries.push(entry);
    }
    return { entries, nextAfterSequence: null };
  }

  /** The last sequence number whose event timestamp is <= timestamp (0 if none). */
  private sequenceAt(timestamp: bigint): number {
    const key = `t${timestampKey(timestamp)}`;
    for (const { key: found, value: first } of this.db.meta.getRange({
      start: key,
      end: 't',
      reverse: true,
      limit: 1,
    })) {
      if (!String(found).startsWith('t')) break;
      const bytes = this.db.log.getBinary(first);
      if (bytes === undefined) break;
      const record = this.decodeLogRecord(first, bytes);
      let sequence = first - 1;
      for (const event of record.events) {
        if (event.timestamp > timestamp) break;
        sequence += 1;
      }
      return sequence;
    }
    return 0;
  }

  async balanceAsOf(
    accountId: string,
    at: { sequence?: number; timestamp?: bigint },
  ): Promise<AccountView | undefined> {
    await this.settled();
    const account = this.state.accounts.get(accountId);
    if (account === undefined) return undefined;
    if (at.timestamp !== undefined && account.timestamp > at.timestamp) return undefined;
    // Before the event that created it (timestamps rise with sequence numbers) it did not exist.
    if (at.sequence !== undefined && at.sequence < this.sequenceAt(account.timestamp))
      return undefined;
    let sequence = at.sequence ?? this.state.lastSequence;
    if (at.timestamp !== undefined) sequence = Math.min(sequence, this.sequenceAt(at.timestamp));
    let counters: readonly [bigint, bigint, bigint, bigint] = [0n, 0n, 0n, 0n];
    if (this.indexed(account)) {
      const range = this.db.history.getRange({
        start: [account.ordinal, sequence],
        end: [account.ordinal, 0],
        reverse: true,
        limit: 1,
      });
      for (const { value } of range) counters = decodeHistoryEntry(value).counters;
    } else {
      for (const entry of this.scannedPostings(accountId, 0)) {
        if (entry.sequence > sequence) break;
        counters = [
          entry.debitsPosted,
          entry.creditsPosted,
          entry.debitsPending,
          entry.creditsPending,
        ];
      }
    }
    const [debitsPosted, creditsPosted, debitsPending, creditsPending] = counters;
    return {
      ...accountView(account),
      debitsPosted,
      creditsPosted,
      debitsPending,
      creditsPending,
      balance: creditsPosted - debitsPosted,
      available: creditsPosted - debitsPosted - debitsPending,
    };
  }

  async readEvents(afterSequence: number, limit: number): Promise<SequencedEvent[]> {
    const durableThrough = this.state.lastSequence;
    await this.settled();
    const events: SequencedEvent[] = [];
    if (limit <= 0) return events;
    for (const item of this.iterateEvents(afterSequence)) {
      if (item.sequence > durableThrough) break;
      events.push(item);
      if (events.length >= limit) break;
    }
    return events;
  }

  async readRecords(afterSequence: number, limitEvents: number): Promise<Uint8Array[]> {
    // Only what is durable: everything applied before the call is durable once settled.
    const durableThrough = this.state.lastSequence;
    await this.settled();
    const records: Uint8Array[] = [];
    if (limitEvents <= 0) return records;
    let start = afterSequence + 1;
    for (const { key } of this.db.log.getRange({
      start: afterSequence + 1,
      reverse: true,
      limit: 1,
    }))
      start = key;
    for (const { key, value } of this.db.log.getRange({ start })) {
      if (key > durableThrough) break;
      // Records before this one hold events afterSequence+1 .. key-1.
      if (records.length > 0 && key - 1 - afterSequence >= limitEvents) break;
      this.checkLogRecord(key, value);
      // A copy: LMDB's buffer is only valid until the read transaction moves on.
      records.push(Uint8Array.prototype.slice.call(value));
    }
    return records;
  }

  /** Checks a stored record's checksum without decoding it (the reader decodes it elsewhere). */
  private checkLogRecord(key: number, value: Uint8Array): void {
    try {
      checkChecksum(value);
    } catch (error) {
      throw corruptionOf(error, { dir: this.dir, sequence: key }) ?? error;
    }
  }

  // ---- verification, snapshots, lifecycle ------------------------------------------------

  /** Whether verify's index audit finds an id: through the decider's own lookup
   * (context.transfers.get), with the ids of the plain run that held the last id kept at hand. The
   * log lists a run's ids in order, so all but the first id of a run are found in memory instead
   * of by one LMDB cursor and a decoded record per id (which made verify() some 40 times slower
   * than the replay alone). */
  private auditLookup(): (id: string) => boolean {
    let run: ReadonlySet<string> = new Set();
    return (id) => {
      if (run.has(id)) return true;
      if (this.db.transfers.getBinaryFast(id) !== undefined) return true;
      const value = runAtOrBelow(this.db.runs, id);
      if (value !== undefined) {
        const ids = new Set(idsOfPlainRun(value));
        if (ids.has(id)) {
          run = ids;
          return true;
        }
      }
      return this.context.transfers.get(id) !== undefined;
    };
  }

  async verify(): Promise<VerifyReport> {
    await this.settled();
    // A copy of the live state at one sequence number; writes go on while the log is replayed.
    const live = restoreState(captureState(this.state));
    const replayed = initialState();
    const index = new IndexAudit(this.auditLookup());
    let replayedCount = 0;
    let sliceStartedMs = performance.now();
    try {
      for (const { sequence, event } of this.iterateEvents(0)) {
        if (replayed.lastSequence >= live.lastSequence) break;
        index.check(sequence, event, replayed);
        evolve(replayed, event);
        replayedCount += 1;
        // Writes wait while this runs: give them the thread at least every verifySliceMs.
        if (replayedCount % 1024 === 0 && performance.now() - sliceStartedMs >= verifySliceMs) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStartedMs = performance.now();
        }
      }
    } catch (error) {
      // A damaged record or index page ends the replay: reported as a violation, like every
      // other finding of verify, naming where it is; the states cannot be compared past it.
      const corrupt = corruptionOf(error, { dir: this.dir, sequence: replayed.lastSequence + 1 });
      if (corrupt === null) throw error;
      const where = Object.entries(corrupt.detail)
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(', ');
      const violations = [
        { rule: 'storage_intact', detail: `STORAGE_CORRUPT: ${where}` },
        ...index.result(),
      ];
      return { ok: false, violations, eventsReplayed: replayedCount };
    }
    const violations = [
      ...diffStates(live, replayed),
      ...auditState(replayed),
      ...auditState(live),
      ...index.result(),
    ];
    return { ok: violations.length === 0, violations, eventsReplayed: replayedCount };
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
      const logDigest = this.logDigestAt(payload.lastSequence);
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
    let holdsOpen = 0;
    for (const reservation of this.state.reservations.values())
      if (holdLegOf(reservation) !== undefined) holdsOpen += 1;
    let logSizeBytes = 0;
    try {
      logSizeBytes = statSync(join(this.dir, 'events.mdb')).size;
    } catch {
      logSizeBytes = 0;
    }
    const totals = [...this.state.totals].map(([currency, entry]) => ({
      currency,
      debitsPosted: readCounter(entry.accounts, 0),
      creditsPosted: readCounter(entry.accounts, 1),
      debitsPending: readCounter(entry.accounts, 2),
      creditsPending: readCounter(entry.accounts, 3),
      sagaDebitsPosted: readCounter(entry.saga, 0),
      sagaCreditsPosted: readCounter(entry.saga, 1),
      reservedDebits: readCounter(entry.saga, 2),
      reservedCredits: readCounter(entry.saga, 3),
    }));
    return {
      dir: this.dir,
      totals,
      lastSequence: this.state.lastSequence,
      lastTimestamp: this.state.lastTimestamp,
      accounts: this.state.accounts.size,
      pendingOpen: this.state.pending.size,
      reservationsOpen: this.state.reservations.size - holdsOpen,
      holdsOpen,
      logSizeBytes,
      snapshots: this.snapshots
        .list()
        .map((file) => ({ sequence: file.sequence, sizeBytes: file.sizeBytes })),
      recoveredFromSnapshot: this.recoveredFromSnapshot,
      recoveryMs: this.recoveryMs,
      transferIdMax: this.ids.fastPath ? this.ids.max : null,
    };
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
