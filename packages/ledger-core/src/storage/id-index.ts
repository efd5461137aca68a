// What decide looks ids up in: the transfer-id and saga-id indexes as the next commit will leave
// them. A lookup goes through what is staged in memory (written but not yet committed, so LMDB
// reads cannot see it), the open reservations, the plain runs, then LMDB. Applied events stage
// their index writes here; a commit writes them (flush) and, once durable, forgets them.

import { AssertionError, assert } from '../assert.js';
import { evolve } from '../domain/evolve.js';
import {
  closedRecordsOf,
  holdResolutionRecordOf,
  indexWritesOf,
  reservedStateOf,
  transferRecordOf,
} from '../domain/records.js';
import type { LedgerState, ReservationState } from '../domain/state.js';
import type {
  DecideContext,
  LedgerEvent,
  SagaOutcome,
  TransferCreated,
  TransferRecord,
} from '../domain/types.js';
import type { AccountHistory } from './account-history.js';
import { decodeTransferRecord } from './transfer-record.js';
import { findInPlainRun, idsOfPlainRun, plainRunCount } from './plain-run.js';
import { KnownIds } from './known-ids.js';
import type { ShardDatabases } from './lmdb-env.js';
import { runAtOrBelow, type PlainRun } from './plain-lane.js';
import { findInSagaRun, idsOfSagaRun, sagaRunCount } from './saga-run.js';
import { recordRun, type BuiltRun } from './scattered-run.js';
import { ScatteredRuns } from './scattered-runs.js';
import type { SnapshotIds } from './snapshot-ids.js';
import { emptyStagedWrites, putStagedWrites, type StagedWrites } from './staged-writes.js';
import type { HistoryKey } from './lmdb-env.js';

/** The index record of a side of an open reservation: what closedRecordsOf turns into the
 * closed record. Open reservations are not written to the id index (they live in the log and in
 * memory), so this is how a lookup sees their sides. */
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

/** How many ids an index and its runs hold: the database's entries plus every run's count. */
function storedCount(
  entries: { getStats(): unknown },
  runs: ShardDatabases['runs'],
  runCount: (value: Uint8Array) => number,
): number {
  let count = (entries.getStats() as { entryCount?: number }).entryCount ?? 0;
  for (const { value } of runs.getRange()) count += runCount(value);
  return count;
}

function* storedTransferIds(db: ShardDatabases, scattered: ScatteredRuns): Generator<string> {
  for (const key of db.transfers.getKeys()) yield key;
  for (const { value } of db.runs.getRange()) yield* idsOfPlainRun(value);
  yield* scattered.load(db);
}

function* storedSagaIds(db: ShardDatabases): Generator<string> {
  for (const key of db.sagas.getKeys()) yield key;
  for (const { value } of db.sagaRuns.getRange()) yield* idsOfSagaRun(value);
}

export class IdIndex {
  /** Every transfer id stored, staged or reserved (known-ids.ts). */
  readonly transferIds = new KnownIds();
  /** Every saga id in the saga index, stored or staged. The router's saga ids ascend
   * (shard-router saga/saga-id.ts), so a new saga's id is above every one before, decideReserve's
   * saga lookup needs no LMDB read, and the outcomes staged above it go into saga runs
   * (stageSagaOutcome). Every outcome staged, the tombstones recovery writes included, goes
   * through stageSagaOutcome, which notes its id. Open sagas have no index entry (records.ts):
   * decide and sagaOutcome find their reservation first. */
  readonly sagaIds = new KnownIds();
  /** Records and saga outcomes written but not yet committed (LMDB reads can't see them yet). */
  readonly stagedRecords = new Map<string, TransferRecord>();
  readonly stagedSagas = new Map<string, SagaOutcome>();
  /** Runs of plain transfers written but not yet committed, oldest first (plain-lane.ts). */
  readonly stagedRuns: PlainRun[] = [];
  /** The sorted runs of random-id transfers (scattered-runs.ts). */
  readonly scattered: ScatteredRuns;
  /** Transfer id -> the open reservation holding it: the 'reserved' records of the id index,
   * kept in memory instead of written (see reservedRecord). Derived from state.reservations:
   * maintained by evolve, rebuilt after recovery. Bounded by the open reservations. */
  readonly reservedTransfers = new Map<string, ReservationState>();
  /** The records of the holds (pending transfers) applied since open and still open: their post,
   * void or expiry updates the record from here instead of reading it back from the index.
   * Bounded by the open holds; a hold made before open is read from the index as before. */
  readonly #holdRecords = new Map<string, TransferRecord>();
  /** Open reservations every transfer id of which was new (never stored, staged or reserved)
   * when they were reserved, made since open. A transfer such a saga commits is the first record
   * of its id, and the last (a committed transfer never changes), so its record goes into the
   * commit's scattered run (stageEvent) instead of an entry of its own: with random ids, one
   * B-tree put per committed saga side dirtied a page each, and LMDB's writes took about 13 µs
   * per transfer between two shards (perf: mdb_page_search, mdb_mid2l_insert, pwrite). */
  readonly #newReservations = new Set<ReservationState>();
  /** Whether reservations are watched for new ids: from the end of recovery on (a replayed
   * reservation's ids may have been stored before the crash). */
  #live = false;
  /** What the next commit writes. */
  private writes: StagedWrites = emptyStagedWrites();
  /** The lookups decide makes, and the timestamp of the command being decided. */
  readonly context: DecideContext & { timestamp: bigint };

  /** Fills the known ids (open): from a snapshot's id filters when it kept them (then the replay
   * after the snapshot notes the ids of the events it reads: noteStored), else from the whole
   * index: every key of the transfers and sagas databases and every id of their runs. Either
   * way it lists the stored scattered runs. */
  load(db: ShardDatabases, images: SnapshotIds | null): void {
    if (images !== null) {
      this.transferIds.resume(images.transfers);
      this.sagaIds.resume(images.sagas);
      // Their ids are in the filter already: the listing is what is wanted here.
      for (const _id of this.scattered.load(db));
      return;
    }
    this.transferIds.fill(
      storedCount(db.transfers, db.runs, plainRunCount) + ScatteredRuns.storedCount(db),
      storedTransferIds(db, this.scattered),
    );
    this.sagaIds.fill(storedCount(db.sagas, db.sagaRuns, sagaRunCount), storedSagaIds(db));
  }

  /** The id filters as they are now, for a snapshot (SnapshotTaker.take; snapshot-ids.ts). */
  images(): SnapshotIds {
    return { transfers: this.transferIds.image(), sagas: this.sagaIds.image() };
  }

  /** An empty index over `db`: open fills it (load) before anything is looked up. */
  constructor(db: ShardDatabases) {
    this.scattered = new ScatteredRuns(db);
    this.context = {
      timestamp: 0n,
      transfers: { get: (id) => this.transfer(db, id) },
      sagas: { get: (sagaId) => this.saga(db, sagaId) },
    };
  }

  private transfer(db: ShardDatabases, id: string): TransferRecord | undefined {
    // A new id (above every id, or never seen by the filter) is in no staged or stored entry.
    if (this.transferIds.isNew(id)) return undefined;
    // First: an older record of the id (released) may be staged or stored.
    const reservation = this.reservedTransfers.get(id);
    if (reservation !== undefined) return reservedRecord(reservation, id);
    const staged = this.stagedRecords.get(id);
    if (staged !== undefined) return staged;
    const runs = this.stagedRuns;
    for (let index = runs.length - 1; index >= 0; index -= 1) {
      const found = (runs[index] as PlainRun).find(id);
      if (found !== undefined) return found;
    }
    const bytes = db.transfers.getBinaryFast(id);
    if (bytes !== undefined) return decodeTransferRecord(id, bytes);
    // The lane's runs: the one with the greatest first id <= id may hold it.
    const run = runAtOrBelow(db.runs, id);
    const found = run === undefined ? undefined : findInPlainRun(run, id);
    return found ?? this.scattered.find(id);
  }

  private saga(db: ShardDatabases, sagaId: string): SagaOutcome | undefined {
    // A new saga id (above every one, or never seen by the filter): no disk lookup.
    if (this.sagaIds.isNew(sagaId)) return undefined;
    const found = this.stagedSagas.get(sagaId) ?? (db.sagas.get(sagaId) as SagaOutcome | undefined);
    if (found !== undefined) return found;
    // The saga runs: the one with the greatest first id <= sagaId may hold it.
    const run = runAtOrBelow(db.sagaRuns, sagaId);
    return run === undefined ? undefined : findInSagaRun(run, sagaId);
  }

  /** evolve, keeping reservedTransfers equal to the open reservations' transfer ids (live and
   * in recovery, every event). Returns the reservation the event closed, if it closed one. */
  evolve(state: LedgerState, event: LedgerEvent): ReservationState | undefined {
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

  /** Makes a reservation's transfer ids known as reserved (and to the transfer-id max). */
  noteReserved(reservation: ReservationState): void {
    let allNew = this.#live;
    for (const leg of reservation.legs) {
      if (allNew && !this.transferIds.isNew(leg.transfer.id)) allNew = false;
      this.transferIds.note(leg.transfer.id);
      this.reservedTransfers.set(leg.transfer.id, reservation);
    }
    if (allNew) this.#newReservations.add(reservation);
  }

  /** Recovery is done: reservations made from now on are watched for new ids. */
  goLive(): void {
    this.#live = true;
  }

  /** Stages the one new record of a TransferCreated (the hot path: no updates, no saga; the
   * same as indexWritesOf). */
  stageCreated(event: TransferCreated): void {
    const spec = event.transfer;
    const state = spec.pending ? 'pending' : 'posted';
    const record = transferRecordOf(spec, event.timestamp, state, null);
    this.transferIds.note(record.id);
    this.stageRecord(record);
  }

  /** Stages the id and saga index writes an applied event implies. They become visible to decide
   * at once (stagedRecords) and are written after the log record. `closing`: for
   * ReservationCommitted/Released, the reservation it closed (IdIndex.evolve). */
  stageEvent(event: LedgerEvent, closing: ReservationState | undefined): void {
    if (event.type === 'FundsReserved') {
      // No writes: the sides' 'reserved' records are the open reservation (reservedTransfers).
    } else if (
      closing !== undefined &&
      (event.type === 'ReservationCommitted' || event.type === 'ReservationReleased')
    ) {
      // The sides' records follow from the reservation: no read of the index (closedRecordsOf).
      assert(closing.sagaId === event.sagaId, "the closed reservation is the event's saga");
      const committed = event.type === 'ReservationCommitted';
      const allNew = this.#newReservations.delete(closing) && committed;
      for (const record of closedRecordsOf(closing, event)) {
        if (allNew && record.kind === 'transfer' && record.state === 'posted' && !record.pending)
          this.stageRunRecord(record);
        else this.stageRecord(record);
      }
      // The post or void of a cross-shard hold, on the shard that decided it.
      const resolution = holdResolutionRecordOf(event);
      if (resolution !== null) {
        this.transferIds.note(resolution.id);
        this.stageRecord(resolution);
      }
      this.stageSagaOutcome(event.sagaId, committed ? 'committed' : 'released');
    } else {
      const writes = indexWritesOf(event);
      for (const record of writes.transfers) {
        this.transferIds.note(record.id);
        this.stageRecord(record);
      }
      for (const { id, change } of writes.updates) {
        // A hold's post, void or expiry: the hold's record is the id's newest (no other transfer
        // can take its id while it is open).
        const current = this.#holdRecords.get(id) ?? this.context.transfers.get(id);
        this.#holdRecords.delete(id);
        if (current !== undefined) this.stageRecord({ ...current, ...change });
      }
      if (writes.saga !== null) this.stageSagaOutcome(writes.saga.sagaId, writes.saga.outcome);
    }
  }

  /** Notes the ids that stageEvent would stage for an event whose index writes are stored
   * already (the replay after a snapshot whose id filters load resumed, up to indexedThrough). */
  noteStored(event: LedgerEvent, closing: ReservationState | undefined): void {
    if (event.type === 'FundsReserved') return; // evolve noted its sides (noteReserved)
    if (
      closing !== undefined &&
      (event.type === 'ReservationCommitted' || event.type === 'ReservationReleased')
    ) {
      const resolution = holdResolutionRecordOf(event);
      if (resolution !== null) this.transferIds.note(resolution.id);
      this.sagaIds.note(event.sagaId);
      return;
    }
    const writes = indexWritesOf(event);
    for (const record of writes.transfers) this.transferIds.note(record.id);
    if (writes.saga !== null) this.sagaIds.note(writes.saga.sagaId);
  }

  private stageRecord(record: TransferRecord): void {
    this.stagedRecords.set(record.id, record);
    this.writes.records.push(record);
    // A new hold (only a pending transfer's own record is staged as 'pending').
    if (record.state === 'pending') this.#holdRecords.set(record.id, record);
  }

  /** Stages the first and final record of a new id into the commit's run of such records. */
  private stageRunRecord(record: TransferRecord): void {
    this.stagedRecords.set(record.id, record);
    this.writes.runRecords.push(record);
  }

  /** Stages a final saga outcome: into this commit's saga run when its id is above every saga
   * id before it (so runs never overlap), else as its own entry of the saga index. */
  private stageSagaOutcome(sagaId: string, outcome: SagaOutcome): void {
    this.stagedSagas.set(sagaId, outcome);
    if (this.sagaIds.note(sagaId)) {
      this.writes.sagaRun.ids.push(sagaId);
      this.writes.sagaRun.outcomes.push(outcome);
    } else {
      this.writes.sagas.push([sagaId, outcome]);
    }
  }

  /** Stages a history entry: [account ordinal, sequence] (or [ordinal, sequence, leg] for a saga
   * step's later postings to one account) -> encoded entry. */
  stageHistory(key: HistoryKey, entry: Buffer): void {
    this.writes.history.push([key, entry]);
  }

  /** Stages a run of the plain lane, visible to lookups from now on. */
  stageRun(run: PlainRun): void {
    this.writes.runs.push(run);
    this.stagedRuns.push(run);
  }

  /** Takes back a run that stayed empty. */
  unstageRun(run: PlainRun): void {
    this.writes.runs.splice(this.writes.runs.indexOf(run), 1);
    this.stagedRuns.splice(this.stagedRuns.indexOf(run), 1);
  }

  /** Issues the staged index writes (after the log record, of events `first` on, they derive
   * from) and returns what was staged, so that the staging maps can be cleared once it is
   * committed (forget). */
  flush(db: ShardDatabases, first: number): StagedWrites {
    const writes = this.writes;
    this.writes = emptyStagedWrites();
    const added: BuiltRun[] = [];
    for (const run of writes.runs) {
      const sealed = run.seal();
      writes.ordered.push(...sealed.ordered);
      if (sealed.scattered !== null) added.push(sealed.scattered);
    }
    const stored = writes.runRecords.length > 0 ? [recordRun(writes.runRecords)] : [];
    const scattered = this.scattered.stage(db, added, first, stored);
    putStagedWrites(db, writes, scattered);
    return { ...writes, scattered };
  }

  /** Drops committed writes from the staging maps (unless staged again since). */
  forget(writes: StagedWrites): void {
    for (const records of [writes.records, writes.runRecords]) {
      for (const record of records)
        if (this.stagedRecords.get(record.id) === record) this.stagedRecords.delete(record.id);
    }
    const forgetSaga = (sagaId: string, outcome: SagaOutcome | undefined): void => {
      if (this.stagedSagas.get(sagaId) === outcome) this.stagedSagas.delete(sagaId);
    };
    for (const [sagaId, outcome] of writes.sagas) forgetSaga(sagaId, outcome);
    writes.sagaRun.ids.forEach((sagaId, index) =>
      forgetSaga(sagaId, writes.sagaRun.outcomes[index]),
    );
    for (const run of writes.runs) this.unstage(run);
    this.scattered.forget(writes.scattered);
  }

  private unstage(run: PlainRun): void {
    const at = this.stagedRuns.indexOf(run);
    if (at >= 0) this.stagedRuns.splice(at, 1);
  }
}

/** Stages every index write an applied event at `sequence` implies: its id and saga index
 * entries and its history entries. `closing` as for IdIndex.stageEvent. */
export function stageIndexWrites(
  index: IdIndex,
  history: AccountHistory,
  state: LedgerState,
  event: LedgerEvent,
  sequence: number,
  closing: ReservationState | undefined,
): void {
  if (event.type === 'TransferCreated' && !history.indexes(state, event)) {
    // The hot path: one new record, no updates, no saga, no history.
    index.stageCreated(event);
    return;
  }
  index.stageEvent(event, closing);
  history.stage(state, event, sequence, index);
}
