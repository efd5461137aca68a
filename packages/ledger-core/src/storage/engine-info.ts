// info(): what a shard holds and how it opened, for operators and the router's status.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readCounter } from '../domain/balance.js';
import { holdLegOf, type LedgerState } from '../domain/state.js';
import type { EngineInfo } from './engine-types.js';
import type { KnownIds } from './known-ids.js';
import type { ScatteredRuns } from './scattered-runs.js';
import type { SnapshotStore } from './snapshot-store.js';

/** The parts of a shard info() reports on. */
export interface InfoSource {
  readonly dir: string;
  readonly state: LedgerState;
  readonly snapshots: SnapshotStore;
  readonly transferIds: KnownIds;
  readonly scattered: ScatteredRuns;
  readonly recoveredFromSnapshot: number | null;
  readonly idFiltersFromSnapshot: boolean;
  readonly recoveryMs: number;
}

export function engineInfo(source: InfoSource): EngineInfo {
  const state = source.state;
  let holdsOpen = 0;
  for (const reservation of state.reservations.values())
    if (holdLegOf(reservation) !== undefined) holdsOpen += 1;
  let logSizeBytes: number;
  try {
    logSizeBytes = statSync(join(source.dir, 'events.mdb')).size;
  } catch {
    logSizeBytes = 0;
  }
  const totals = [...state.totals].map(([currency, entry]) => ({
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
    dir: source.dir,
    totals,
    lastSequence: state.lastSequence,
    lastTimestamp: state.lastTimestamp,
    accounts: state.accounts.size,
    pendingOpen: state.pending.size,
    reservationsOpen: state.reservations.size - holdsOpen,
    holdsOpen,
    logSizeBytes,
    snapshots: source.snapshots
      .list()
      .map((file) => ({ sequence: file.sequence, sizeBytes: file.sizeBytes })),
    recoveredFromSnapshot: source.recoveredFromSnapshot,
    idFiltersFromSnapshot: source.idFiltersFromSnapshot,
    recoveryMs: source.recoveryMs,
    transferIdMax: source.transferIds.fastPath ? source.transferIds.max : null,
    scatteredRuns: source.scattered.runCount,
    scatteredMergeEntries: source.scattered.mergeEntries,
  };
}
