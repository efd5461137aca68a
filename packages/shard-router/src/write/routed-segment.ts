// One segment of a createTransfers call, routed: messages per shard, in input order, with
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

/** The most commands in one message to a shard. A segment's larger share of a shard goes as
 * several messages, sent back to back: the shard applies them in order, each a commit of its
 * own, so that a message's commit and its answer overlap the next message's work on the shard.
 * `bench standard` (two calls of 8,190 in flight, one shard) ran 3-8% faster with it, with
 * random and with ordered ids; messages of at most 2,048 ran no faster than 4,096. */
export const shardMessageMax = 4_096;

/** What one segment sends to one shard in one message: same-shard transfers and reservations of
 * cross-shard ones, in input order. */
export interface ShardMessage {
  readonly shard: number;
  readonly batch: CommandBatchBuilder;
  /** Per command, its position (sagaPosition): the input index or the saga slot it answers. */
  readonly positions: number[];
  reservations: number;
}

/** One segment, routed: its messages (a shard's in input order) and its sagas. */
export class RoutedSegment {
  /** In the order they were opened; those of one shard keep the input order. */
  readonly messages: ShardMessage[] = [];
  readonly sagas = new SagaBatch();
  /** Per shard, the message that commands are added to now. */
  readonly #open: (ShardMessage | undefined)[];
  readonly #capacity: number;

  constructor(shards: number, capacity: number) {
    this.#open = new Array<ShardMessage | undefined>(shards);
    this.#capacity = Math.min(capacity, shardMessageMax);
  }

  #messageTo(shard: number): ShardMessage {
    let message = this.#open[shard];
    if (message === undefined || message.positions.length === shardMessageMax) {
      message = {
        shard,
        batch: new CommandBatchBuilder(this.#capacity),
        positions: [],
        reservations: 0,
      };
      this.#open[shard] = message;
      this.messages.push(message);
    }
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
