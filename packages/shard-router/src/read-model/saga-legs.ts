// The legs of cross-shard transfers (saga_legs) and the transfers row computed from them. Each
// shard records its own side of a saga; the transfers row combines both sides, so it is computed
// again from every leg recorded so far whenever one changes: the final row does not depend on the
// order in which the shards were projected.

import { type Metadata, type ReservationLeg, type TransferSpec } from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import {
  metadataText,
  type EventPosition,
  type ProjectorStatements,
} from './projector-statements.js';
import { deleteTransfer, putMetadata } from './transfer-rows.js';

interface LegRow {
  saga_id: string;
  side: string;
  shard: bigint;
  sequence: bigint;
  timestamp: bigint;
  state: string;
  spec: string;
}

/** The transfer spec of a leg as its `spec` column holds it (JSON; the amount as decimal text). */
interface StoredSpec {
  debitAccountId: string;
  creditAccountId: string;
  amount: string;
  currency: string;
  timeoutMs: number;
  metadata: Metadata | null;
  /** True for a cross-shard hold; absent for a transfer that posts at once. */
  pending?: boolean;
}

/** The saga whose legs give a transfer its row, and the state that row shows. */
interface Winner {
  readonly sagaId: string;
  readonly legs: LegRow[];
  readonly state: string;
}

/** Records a leg reserved by the event at `at`. */
export function insertLeg(
  statements: ProjectorStatements,
  at: EventPosition,
  sagaId: string,
  leg: ReservationLeg,
): void {
  statements.insertLeg.run(
    leg.transfer.id,
    sagaId,
    leg.side,
    at.shard,
    at.sequence,
    at.timestamp,
    'reserved',
    legSpecText(leg.transfer),
  );
}

/** Closes a reserved leg: committed, released, or a hold's voided or expired. A transfer that
 * posts at once is dated by its commit (`timestamp`), as the shard's record of it is. */
export function closeLeg(
  statements: ProjectorStatements,
  sagaId: string,
  leg: ReservationLeg,
  state: string,
  timestamp: bigint,
): void {
  const committedAt = state === 'committed' && !leg.transfer.pending ? timestamp : null;
  const changed = statements.setLegState.run(state, committedAt, leg.transfer.id, sagaId, leg.side);
  assert(changed.changes === 1, 'a saga leg closes once, after it was reserved');
}

/** The transfers row of a saga transfer, from every leg recorded so far: the saga that is not
 * released (lowest saga id if several), else the last released one. A transfer applied on one
 * shard under the same id keeps its row. `postedAmount` is what a commit event carries for a
 * hold posted for less than it holds. */
export function recomputeSagaTransfer(
  statements: ProjectorStatements,
  id: string,
  postedAmount?: bigint,
): void {
  const existing = statements.transferOrigin.get(id) as { saga_id: string | null } | undefined;
  if (existing !== undefined && existing.saga_id === null) return;
  const legs = statements.legsOf.all(id) as LegRow[];
  assert(legs.length > 0, 'a saga transfer has legs');
  const winner = winnerOf(legs);
  const debitLeg = winner.legs.find((leg) => leg.side === 'debit');
  const creditLeg = winner.legs.find((leg) => leg.side === 'credit');
  const origin = (debitLeg ?? creditLeg) as LegRow;
  const spec = JSON.parse(origin.spec) as StoredSpec;
  const crossShard =
    debitLeg === undefined || creditLeg === undefined || debitLeg.shard !== creditLeg.shard ? 1 : 0;
  // The transfer's time is when both sides hold it, as Ledger.lookupTransfers answers: the
  // later of the two sides' times.
  const timestamp =
    creditLeg !== undefined && creditLeg.timestamp > origin.timestamp
      ? creditLeg.timestamp
      : origin.timestamp;
  deleteTransfer(statements, id);
  // A hold becomes 'posted' with the commit of its second side, whose event carries the amount
  // posted when it is less than the hold (both sides' commits carry it).
  const holdPosted =
    spec.pending === true && winner.state === 'posted'
      ? (postedAmount?.toString() ?? spec.amount)
      : null;
  statements.insertTransfer.run(
    id,
    'transfer',
    spec.debitAccountId,
    spec.creditAccountId,
    spec.amount,
    spec.currency,
    spec.pending === true ? 1 : 0,
    spec.timeoutMs,
    metadataText(spec.metadata),
    null,
    winner.state,
    holdPosted,
    timestamp,
    origin.shard,
    origin.sequence,
    winner.sagaId,
    crossShard,
    // A saga's postings are its legs' entries rows, not on its row.
    null,
    null,
    null,
    null,
  );
  putMetadata(statements, id, spec.metadata);
}

/** Of the sagas that moved this transfer id (legs ordered by saga id), the one that gives it its
 * row: the first one not released, else the last released one. */
function winnerOf(legs: readonly LegRow[]): Winner {
  const sagas = new Map<string, LegRow[]>();
  for (const leg of legs) {
    const list = sagas.get(leg.saga_id) ?? [];
    list.push(leg);
    sagas.set(leg.saga_id, list);
  }
  let winner: Winner | null = null;
  for (const [sagaId, sagaLegs] of sagas) {
    const state = sagaStateOf(sagaLegs);
    if (
      winner === null ||
      (winner.state === 'released' && (state !== 'released' || sagaId > winner.sagaId))
    ) {
      winner = { sagaId, legs: sagaLegs, state };
    }
  }
  assert(winner !== null, 'a saga wins');
  return winner;
}

/** The state of one saga's transfer from its legs: released if any leg was released; a hold's
 * voided or expired; posted once both legs committed; else pending (a hold) or reserved. */
function sagaStateOf(legs: readonly LegRow[]): string {
  const hold = (JSON.parse((legs[0] as LegRow).spec) as StoredSpec).pending === true;
  const closedAs = legs.find((leg) => leg.state === 'voided' || leg.state === 'expired')?.state;
  if (legs.some((leg) => leg.state === 'released')) return 'released';
  if (closedAs !== undefined) return closedAs;
  if (legs.length === 2 && legs.every((leg) => leg.state === 'committed')) return 'posted';
  return hold ? 'pending' : 'reserved';
}

function legSpecText(spec: TransferSpec): string {
  const stored: StoredSpec = {
    debitAccountId: spec.debitAccountId,
    creditAccountId: spec.creditAccountId,
    amount: spec.amount.toString(),
    currency: spec.currency,
    timeoutMs: spec.timeoutMs,
    metadata: spec.metadata,
    ...(spec.pending ? { pending: true } : {}),
  };
  return JSON.stringify(stored);
}
