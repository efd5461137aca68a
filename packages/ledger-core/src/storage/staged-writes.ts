// The index writes one commit issues after its log record: transfer records, saga outcomes, runs
// of plain transfers and history entries, staged while the call's commands are applied.

import type { SagaOutcome, TransferRecord } from '../domain/types.js';
import { ValueArena } from './value-arena.js';
import { writeTransferRecord } from './transfer-record.js';
import { DEFERRED_FROM } from './commit-writer.js';
import type { ShardDatabases } from './lmdb-env.js';
import type { PlainRun } from './plain-lane.js';
import { encodeSagaRun, type SagaRun } from './saga-run.js';
import { noScatteredWrites, type ScatteredWrites } from './scattered-runs.js';
import type { HistoryKey } from './lmdb-env.js';

export interface StagedWrites {
  readonly records: TransferRecord[];
  /** Records of new ids, written as one scattered run of the commit instead of one entry each
   * (IdIndex.stageEvent says which). */
  readonly runRecords: TransferRecord[];
  /** Saga outcomes outside the run (ids not above the saga-id max when staged). */
  readonly sagas: [string, SagaOutcome][];
  /** Saga outcomes whose ids were each above every saga id before: one saga run. */
  readonly sagaRun: SagaRun;
  readonly history: [HistoryKey, Buffer][];
  readonly runs: PlainRun[];
  /** The ordered runs' index entries, once the runs are sealed (IdIndex.flush). */
  readonly ordered: { readonly key: string; readonly value: Buffer }[];
  /** The scattered runs written and removed (IdIndex.flush). */
  readonly scattered: ScatteredWrites;
}

export function emptyStagedWrites(): StagedWrites {
  return {
    records: [],
    runRecords: [],
    sagas: [],
    sagaRun: { ids: [], outcomes: [] },
    history: [],
    runs: [],
    ordered: [],
    scattered: noScatteredWrites,
  };
}

/** Issues the writes, with the scattered runs' (`scattered`), into the current write
 * transaction (the caller's fence block). */
export function putStagedWrites(
  db: ShardDatabases,
  writes: StagedWrites,
  scattered: ScatteredWrites,
): void {
  const arena = new ValueArena(Math.max(4096, writes.records.length * 96));
  const transfersDb = db.transfers;
  for (const { key, value } of writes.ordered) void db.runs.put(key, value);
  for (const [key, value] of scattered.chunks) void db.scatteredRuns.put(key, value);
  for (const run of scattered.runs)
    for (const [key, value] of run.write().entries) void db.scatteredRuns.put(key, value);
  for (const { key, chunks } of scattered.removes)
    for (let chunk = 0; chunk <= chunks; chunk += 1) void db.scatteredRuns.remove([key, chunk]);
  if (scattered.deferredFrom === null) void db.meta.remove(DEFERRED_FROM);
  else if (scattered.deferredFrom !== undefined)
    void db.meta.put(DEFERRED_FROM, scattered.deferredFrom);
  for (const record of writes.records) {
    writeTransferRecord(arena, record);
    void transfersDb.put(record.id, arena.take());
  }
  for (const [sagaId, outcome] of writes.sagas) void db.sagas.put(sagaId, outcome);
  if (writes.sagaRun.ids.length > 0)
    void db.sagaRuns.put(writes.sagaRun.ids[0] as string, encodeSagaRun(writes.sagaRun));
  for (const [key, value] of writes.history) void db.history.put(key, value);
}
