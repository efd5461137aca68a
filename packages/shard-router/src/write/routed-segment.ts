// One segment of a createTransfers call, routed: a message per shard, in input order, with
// its same-shard transfers (a plain one straight into the message's columns) and the
// reservations of its cross-shard ones, whose sagas the segment's SagaBatch keeps. The
// transfer writer builds one per segment, sends each message and reads the answers back by
// position (transfer-writer.ts).

import { type TransferSpec } from '@shardledger/ledger-core';
import { CommandBatchBuilder, type PlainTransferFields } from '@shardledger/ledger-core/internals';
import { failpoint, failpointNames } from '../failpoints.js';
import { SagaBatch } from '../saga/saga-batch.js';

/** A position in a shard message: the input index (>= 0) of a same-shard transfer, or the saga
 * slot of a reservation, stored as -(slot + 1) so that a message's positions stay one array of
 * numbers on the hot path. */
export function sagaPosition(slot: number): number {
  return -slot - 1;
}

/** The saga slot of a reservation's position (a negative one: sagaPosition). */
export function sagaSlotOf(position: number): number {
  return -position - 1;
}

/** What one segment sends to one shard: its same-shard transfers and the reservations of its
 * cross-shard ones, in input order. */
export interface ShardMessage {
  readonly batch: CommandBatchBuilder;
  /** Per command, its position (sagaPosition): the input index or the saga slot it answers. */
  readonly positions: number[];
  reservations: number;
}

/** One segment, routed: a message per shard and the segment's sagas. */
export class RoutedSegment {
  readonly messages: (ShardMessage | undefined)[];
  readonly sagas = new SagaBatch();
  readonly #capacity: number;

  constructor(shards: number, capacity: number) {
    this.messages = new Array<ShardMessage | undefined>(shards);
    this.#capacity = capacity;
  }

  #messageTo(shard: number): ShardMessage {
    let message = this.messages[shard];
    if (message === undefined)
      this.messages[shard] = message = {
        batch: new CommandBatchBuilder(this.#capacity),
        positions: [],
        reservations: 0,
      };
    return message;
  }

  /** A plain transfer between two accounts of `shard`, straight into its columns. */
  addPlain(shard: number, index: number, plain: PlainTransferFields): void {
    const message = this.#messageTo(shard);
    message.batch.addPlainTransfer(
      plain.id,
      plain.debitAccountId as string,
      plain.creditAccountId as string,
      plain.currency,
      plain.amount,
    );
    message.positions.push(index);
  }

  /** Any valid transfer: a command on its shard, or a saga reserved on both of its shards (a
   * pending one stays reserved there: a cross-shard hold). */
  add(index: number, spec: TransferSpec, debitShard: number, creditShard: number): void {
    if (debitShard === creditShard) {
      const message = this.#messageTo(debitShard);
      message.batch.add({ type: 'CreateTransfer', transfer: spec });
      message.positions.push(index);
    } else {
      const sagas = this.sagas;
      if (sagas.size === 0) failpoint(failpointNames.sagaReserveBefore);
      const slot = sagas.add(index, spec, debitShard, creditShard);
      this.#reserveIn(debitShard, slot);
      this.#reserveIn(creditShard, slot);
    }
  }

  #reserveIn(shard: number, slot: number): void {
    const message = this.#messageTo(shard);
    message.batch.add(this.sagas.reserveOn(slot, shard));
    message.positions.push(sagaPosition(slot));
    message.reservations += 1;
  }
}
