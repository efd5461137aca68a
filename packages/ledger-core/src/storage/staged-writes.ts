// The index writes one commit issues after its log record: transfer records, saga outcomes, runs
// of plain transfers and history entries, staged while the call's commands are applied.

import type { SagaOutcome, TransferRecord } from '../domain/types.js';
import { ValueArena } from './value-arena.js';
import { writeTransferRecord } from './transfer-record.js';
import type { ShardDatabases } from './lmdb-env.js';
import type { PlainRun } from './plain-lane.js';
import { encodeSagaRun, type SagaRun } from './saga-run.js';

export interface StagedWrites {
  readonly records: TransferRecord[];
  /** Saga outcomes outside the run (ids not above the saga-id max when staged). */
  readonly sagas: [string, SagaOutcome][];
  /** Saga outcomes whose ids were each above every saga id before: one saga run. */
  readonly sagaRun: SagaRun;
  readonly history: [[number, number], Buffer][];
  readonly runs: PlainRun[];
  /** Runs whose scattered transfers this write puts into the transfers db (IdIndex.flush). */
  readonly merged: PlainRun[];
}

export function emptyStagedWrites(): StagedWrites {
  return {
    records: [],
    sagas: [],
    sagaRun: { ids: [], outcomes: [] },
    history: [],
    runs: [],
    merged: [],
  };
}

/** Issues the writes into the current write transaction (the caller's fence block). */
export function putStagedWrites(db: ShardDatabases, writes: StagedWrites): void {
  let scattered = 0;
  for (const run of writes.merged) scattered += run.scatteredColumns.length;
  const arena = new ValueArena(Math.max(4096, (writes.records.length + scattered) * 96));
  const transfersDb = db.transfers;
  const putTransfer = (id: string, value: Buffer): void => void transfersDb.put(id, value);
  for (const run of writes.runs) {
    const sealed = run.seal();
    if (sealed !== null) void db.runs.put(sealed.key, sealed.value);
  }
  for (const run of writes.merged) run.putScattered(arena, putTransfer);
  for (const record of writes.records) {
    writeTransferRecord(arena, record);
    void transfersDb.put(record.id, arena.take());
  }
  for (const [sagaId, outcome] of writes.sagas) void db.sagas.put(sagaId, outcome);
  if (writes.sagaRun.ids.length > 0)
    void db.sagaRuns.put(writes.sagaRun.ids[0] as string, encodeSagaRun(writes.sagaRun));
  for (const [key, value] of writes.history) void db.history.put(key, value);
}
