// The simulator's router: one call of the command stream, sent the way Ledger sends it. A
// createTransfers call puts each shard's same-shard transfers and the reservations of its sagas
// in one message per shard, records the answers in a SagaBatch and lets the real SagaCoordinator
// finish the batch (Ledger.sendRouting); an atomic group spanning shards is SagaCoordinator.run.
import type { Command, CommandStatus } from '@shardledger/ledger-core';
import { SagaBatch } from '../../src/saga/saga-batch.js';
import type { SagaCoordinator } from '../../src/saga/saga-coordinator.js';
import type { SagaShard } from '../../src/saga/saga-steps.js';
import type { SimOp } from './sim-workload.js';

export interface SimRouter {
  readonly coordinator: SagaCoordinator;
  readonly shards: readonly SagaShard[];
  shardOf(accountId: string): number;
}

/** One status per transfer of `op`, or a throw (SHARD_UNAVAILABLE...) when the call failed and
 * is in doubt: the client then sends it again with the same ids. */
export async function sendOp(router: SimRouter, op: SimOp): Promise<CommandStatus[]> {
  return op.kind === 'group' ? router.coordinator.run(op.transfers) : sendCall(router, op);
}

async function sendCall(router: SimRouter, op: SimOp): Promise<CommandStatus[]> {
  const sagas = new SagaBatch();
  const buckets = new Map<
    number,
    { commands: Command[]; positions: number[]; reservations: number }
  >();
  const put = (shard: number, command: Command, position: number): void => {
    let bucket = buckets.get(shard);
    if (bucket === undefined)
      buckets.set(shard, (bucket = { commands: [], positions: [], reservations: 0 }));
    bucket.commands.push(command);
    bucket.positions.push(position);
    if (position < 0) bucket.reservations += 1;
  };
  op.transfers.forEach((transfer, index) => {
    const debitShard = router.shardOf(transfer.debitAccountId);
    const creditShard = router.shardOf(transfer.creditAccountId);
    if (debitShard === creditShard) {
      put(debitShard, { type: 'CreateTransfer', transfer }, index);
      return;
    }
    const slot = sagas.add(index, transfer, debitShard, creditShard);
    put(debitShard, sagas.reserveOn(slot, debitShard), -slot - 1);
    put(creditShard, sagas.reserveOn(slot, creditShard), -slot - 1);
  });
  const statuses = new Array<CommandStatus>(op.transfers.length);
  let localError: unknown;
  await Promise.all(
    [...buckets].map(([shard, bucket]) =>
      (router.shards[shard] as SagaShard).submit(bucket.commands).then(
        (results) => {
          bucket.positions.forEach((position, index) => {
            const result = results[index];
            if (result === undefined) throw new Error('one result per command');
            if (position >= 0) statuses[position] = result.status;
            else sagas.answer(-position - 1, shard, result);
          });
        },
        (error: unknown) => {
          // As Ledger: reservations are re-sent by finishBatch; same-shard transfers are in doubt.
          if (bucket.reservations > 0) sagas.failed.set(shard, error);
          if (bucket.reservations < bucket.positions.length && localError === undefined)
            localError = error;
        },
      ),
    ),
  );
  if (sagas.size > 0) {
    const sagaStatuses = await router.coordinator.finishBatch(sagas);
    for (let slot = 0; slot < sagas.size; slot += 1)
      statuses[sagas.positions[slot] as number] = sagaStatuses[slot] as CommandStatus;
  }
  if (localError !== undefined) throw localError;
  return statuses;
}
