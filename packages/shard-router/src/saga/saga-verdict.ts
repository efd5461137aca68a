// How a saga ends, decided from its participants' answers to ReserveFunds, and which status each
// of its transfers gets. Pure functions shared by the single saga (SagaCoordinator.run) and the
// sagas of one createTransfers call (SagaCoordinator.finishBatch), so that both end the same way.

import type { Command, CommandResult, CommandStatus } from '@shardledger/ledger-core';

/** When both legs of a transfer are refused, report what a single shard would: it checks in this
 * order (decide.ts checkTransfer). Anything unlisted ranks after these. */
const checkOrder: readonly CommandStatus[] = [
  'duplicate_id_in_group',
  'exists_with_different_fields',
  'transfer_in_flight',
  'accounts_must_be_different',
  'account_not_found',
  'currency_mismatch',
  'overflow',
  'insufficient_funds',
  'exceeds_debits',
];

function rank(status: CommandStatus): number {
  if (status === 'ok' || status === 'linked_transfer_failed') return Number.MAX_SAFE_INTEGER;
  const index = checkOrder.indexOf(status);
  return index === -1 ? checkOrder.length : index;
}

/** How a saga ends once every participant answered its ReserveFunds: 'exists' when every one
 * already held it (the transfers were posted before), 'release' when any refused, else 'commit'. */
export type SagaVerdict = 'exists' | 'release' | 'commit';

export function sagaVerdict(reservations: readonly CommandResult[]): SagaVerdict {
  let allExist = true;
  for (const { status } of reservations) {
    if (status !== 'ok' && status !== 'exists') return 'release';
    if (status !== 'exists') allExist = false;
  }
  return allExist ? 'exists' : 'commit';
}

/** The step that finishes, by `verdict`, a reservation this saga made (answered `ok`). */
export function finishingStep(sagaId: string, verdict: 'commit' | 'release'): Command {
  return verdict === 'commit'
    ? { type: 'CommitReservation', sagaId }
    : { type: 'ReleaseReservation', sagaId, reason: 'refused' };
}

/** The code of leg `index` of a ReserveFunds answer: 'ok' where the shard holds the reservation
 * (answered `ok` or `exists`), else the code that refused that leg. */
export function legCode(reservation: CommandResult, index: number): CommandStatus {
  const status = reservation.status;
  if (status === 'ok' || status === 'exists') return 'ok';
  return reservation.statuses?.[index] ?? status;
}

/** The status of a transfer whose saga was released, from the codes of its two legs in the order
 * the shards are asked: the one a single shard would report first. 'ok' when neither leg was
 * refused for a reason of its own. */
export function refusedStatus(first: CommandStatus, second: CommandStatus): CommandStatus {
  let status: CommandStatus = 'ok';
  if (rank(first) < rank(status)) status = first;
  if (rank(second) < rank(status)) status = second;
  return status;
}

/** The statuses of a released atomic group, in place: a transfer that was not refused itself
 * fails with the group (or, alone, with the first refusing code, if any). */
export function groupReleased(statuses: CommandStatus[]): CommandStatus[] {
  const firstCode =
    statuses.find((status) => status !== 'ok' && status !== 'linked_transfer_failed') ??
    'linked_transfer_failed';
  const groupCode = statuses.length > 1 ? 'linked_transfer_failed' : firstCode;
  for (let index = 0; index < statuses.length; index += 1)
    if (statuses[index] === 'ok') statuses[index] = groupCode;
  return statuses;
}
