// Opening a shard directory: the checks made before anything is written (identity, storage
// format, history index), then recovery: the newest usable snapshot plus the log after it, with
// the index entries past 'indexedThrough' re-derived from the log.

import { AssertionError, assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import { checkBalanceTotals } from '../domain/audit.js';
import { initialState, type LedgerState } from '../domain/state.js';
import type { LedgerEvent } from '../domain/types.js';
import type { ShardEngineOptions } from './engine-types.js';
import type { EventLog } from './event-log.js';
import { corruptionOf } from './corruption.js';
import { storageErrorOf, type FailStop } from './fail-stop.js';
import type { AccountHistory } from './account-history.js';
import { stageIndexWrites, type IdIndex } from './id-index.js';
import type { ShardDatabases } from './lmdb-env.js';
import { DEFERRED_FROM, INDEXED_THROUGH, type CommitWriter } from './commit-writer.js';
import type { SnapshotIds } from './snapshot-ids.js';
import type { SnapshotStore } from './snapshot-store.js';
import type { WriterFence } from './writer-fence.js';
import {
  checkAccountHomes,
  checkShardIdentity,
  putShardIdentity,
  readShardIdentity,
} from './shard-identity.js';

/** meta key: set once the dir was opened with accountHistory off (AccountHistory.complete). */
const HISTORY_INCOMPLETE = 'historyIncomplete';
/** meta key: the shard dir's storage format. Absent = 1. Version 2 added the `runs` and
 * `sagaRuns` dbs and keeps open reservations out of the id and saga indexes (in the log and in
 * memory only). Version 3 puts a checksum on every log record written (record-checksum.ts);
 * older records are read as they are. Version 4 may defer the transfers-db entries of random-id
 * plain transfers (commit-writer.ts DEFERRED_FROM), which an older build would not re-derive.
 * Version 5 keeps random-id plain transfers in scattered runs (scattered-run.ts), which an older
 * build would not look in, and logs account status events (frozen, unfrozen, closed), which an
 * older build could not decode.
 * Version 6 writes log records whose transfer columns may be cut into pieces (column-text.ts,
 * record version 5), which an older build could not decode.
 * Version 7 gives each posting of a saga step to one account its own history entry, the second
 * and later at [ordinal, sequence, leg] (history-postings.ts): an older build would take the
 * first's counters for the account's balance as of that step.
 * Version 8 records the post or void of a cross-shard hold on its credit shard too (the closing
 * step carries it), its history entries there under its own id: an older build would list them
 * as transfers created.
 * A build reads every version up to its own, raises the stored one on open, and refuses a newer
 * one: an older build would miss what a newer layout stores elsewhere. */
const FORMAT_VERSION = 'formatVersion';
export const shardFormatVersion = 8;

type ShardIdentity = NonNullable<ShardEngineOptions['identity']>;

/** The parts of a shard being opened that the checks read. */
export interface OpeningShard {
  readonly dir: string;
  readonly db: ShardDatabases;
  readonly log: EventLog;
}

/** Refuses a dir that is not the expected shard; returns whether its identity is to be written
 * (a new shard, or a shard of an older dir that holds what every earlier open wrote). */
export function checkIdentity(shard: OpeningShard, expected: ShardIdentity): boolean {
  const meta = shard.db.meta as unknown as Parameters<typeof readShardIdentity>[0];
  const looksWritten =
    shard.db.meta.get(FORMAT_VERSION) !== undefined || shard.log.lastSequence() > 0;
  return checkShardIdentity({
    stored: readShardIdentity(meta),
    expected,
    dir: shard.dir,
    looksWritten,
  });
}

/** Writes the identity, durably, once recovered: for an older dir only after every account
 * was found where the partition map routes it. */
export async function writeIdentity(
  shard: OpeningShard,
  fence: WriterFence,
  state: LedgerState,
  expected: ShardIdentity,
): Promise<void> {
  checkAccountHomes(state.accounts.keys(), expected, shard.dir);
  const meta = shard.db.meta as unknown as Parameters<typeof putShardIdentity>[0];
  const written = await fence.guard(() => putShardIdentity(meta, expected));
  if (!written) throw fence.refusal();
  await shard.db.env.flushed;
}

/** Refuses a dir written in a newer format; raises an older one's version, durably, before any
 * write in this format. */
export async function checkFormatVersion(shard: OpeningShard): Promise<void> {
  const stored: unknown = shard.db.meta.get(FORMAT_VERSION) ?? 1;
  if (typeof stored !== 'number' || !Number.isSafeInteger(stored) || stored > shardFormatVersion) {
    throw new LedgerError('NOT_A_LEDGER', {
      dir: shard.dir,
      problem: `shard formatVersion ${String(stored)} is not readable by this build (${shardFormatVersion})`,
    });
  }
  if (stored < shardFormatVersion) {
    await shard.db.meta.put(FORMAT_VERSION, shardFormatVersion);
    await shard.db.env.flushed;
  }
}

/** Records, durably and before any write, that this dir is being written without the history
 * index (`enabled` false); returns whether that never happened (the index is complete). */
export async function markHistoryIndex(db: ShardDatabases, enabled: boolean): Promise<boolean> {
  if (!enabled && db.meta.get(HISTORY_INCOMPLETE) === undefined) {
    await db.meta.put(HISTORY_INCOMPLETE, 1);
    await db.env.flushed;
  }
  return db.meta.get(HISTORY_INCOMPLETE) === undefined;
}

/** Records in `stop` why open failed, as what it is: damage found is STORAGE_CORRUPT, another
 * error of the storage the storage error it is (fail-stop.ts); a broken assertion or a ledger
 * error (a refused dir) is left to be thrown as it is, unless the shard had already failed. */
export async function recordOpenFailure(
  error: unknown,
  dir: string,
  stop: FailStop,
): Promise<void> {
  const corrupt = corruptionOf(error, { dir });
  if (corrupt !== null) stop.fail(corrupt);
  else if (
    stop.failure === null &&
    !(error instanceof AssertionError) &&
    !(error instanceof LedgerError)
  )
    stop.fail(await storageErrorOf(error, { dir }));
}

/** What recovery works on: the opened shard, its writer's fence and the indexes it rebuilds. */
export interface RecoveringShard extends OpeningShard {
  readonly snapshots: SnapshotStore;
  readonly writer: CommitWriter;
  readonly index: IdIndex;
  readonly history: AccountHistory;
}

export interface Recovered {
  readonly state: LedgerState;
  /** The sequence of the snapshot recovery started from; null when it replayed the whole log. */
  readonly fromSnapshot: number | null;
  /** The id filters that snapshot kept (null: none, so the index was read whole). */
  readonly ids: SnapshotIds | null;
}

/** Loads the newest snapshot the log vouches for, replays the log after it into the state and
 * the indexes, and writes the index entries past 'indexedThrough'. */
export async function recover(shard: RecoveringShard): Promise<Recovered> {
  const lastSequence = shard.log.lastSequence();
  const { state, fromSnapshot, ids } = await loadSnapshot(shard, lastSequence);
  const { index, history } = shard;
  index.load(shard.db, ids);
  history.noteAccounts(state);
  for (const reservation of state.reservations.values()) index.noteReserved(reservation);
  const indexedThrough = (shard.db.meta.get(INDEXED_THROUGH) as number | undefined) ?? 0;
  const deferredFrom = shard.db.meta.get(DEFERRED_FROM) as number | undefined;
  // Deferred entries logged before the snapshot: the replay below starts after it.
  if (deferredFrom !== undefined && deferredFrom <= state.lastSequence)
    for (const { sequence, event } of shard.log.events(deferredFrom - 1)) {
      if (sequence > state.lastSequence) break;
      restageDeferred(index, event);
    }
  for (const { sequence, event } of shard.log.events(state.lastSequence)) {
    assert(sequence === state.lastSequence + 1, 'log is gapless');
    const closing = index.evolve(state, event);
    history.noteCreated(event);
    if (sequence > indexedThrough) {
      stageIndexWrites(index, history, state, event, sequence, closing);
      continue;
    }
    // Stored already: the filters resumed from the snapshot lack its ids.
    if (ids !== null) index.noteStored(event, closing);
    if (deferredFrom !== undefined && sequence >= deferredFrom) restageDeferred(index, event);
  }
  assert(state.lastSequence === lastSequence, 'recovered to the end of the log');
  const violations = checkBalanceTotals(state);
  if (violations.length > 0)
    throw new LedgerError('STORAGE_CORRUPT', { violation: violations[0]?.detail ?? '' });
  if (lastSequence > indexedThrough || deferredFrom !== undefined)
    await shard.writer.indexThrough(lastSequence);
  index.goLive();
  return { state, fromSnapshot, ids };
}

/** Stages the transfers-db entry of a transfer created at or after DEFERRED_FROM that the index
 * lacks: a random-id plain transfer kept in a run in memory only when the process stopped
 * (scattered-runs.ts), or whose entry a format-4 build deferred. Every other entry of those
 * commits was written with them. */
function restageDeferred(index: IdIndex, event: LedgerEvent): void {
  if (event.type !== 'TransferCreated') return;
  if (index.context.transfers.get(event.transfer.id) === undefined) index.stageCreated(event);
}

/** The newest snapshot at or below the log's end whose log record still matches it, or the
 * initial state. */
async function loadSnapshot(shard: RecoveringShard, lastSequence: number): Promise<Recovered> {
  // A snapshot ahead of the log describes events the log does not have (lost to a power cut
  // through a disk cache that lied about its flush, or a log restored without its snapshots).
  // Skipping it is not enough: the log would grow past it with other events, and the next
  // open would trust it. So it is moved aside, durably, before anything is appended; never
  // deleted (it may be the last copy of those events). A missing or empty log never gets here
  // in a ledger: the shard's identity check refuses it first (shard-identity.ts).
  const snapshots = shard.snapshots.list();
  await shard.snapshots.setAside(snapshots.filter((file) => file.sequence > lastSequence));
  for (const file of snapshots) {
    if (file.sequence > lastSequence) continue; // set aside above
    const loaded = shard.snapshots.load(file.path, (sequence) => shard.log.digestAt(sequence));
    if (loaded !== null) return { ...loaded, fromSnapshot: file.sequence };
  }
  return { state: initialState(), fromSnapshot: null, ids: null };
}
