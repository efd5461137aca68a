// The cross-shard transfers of one createTransfers call, gathered so that their steps share the
// call's messages: the reservations travel in the call's messages to each shard (sent by the
// caller with its same-shard transfers), the commits and releases in one message per shard
// (SagaCoordinator.finishBatch).

import {
  limits,
  type Command,
  type CommandResult,
  type ReservationLeg,
  type TransferSpec,
} from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import { newSagaId } from './saga-id.js';

/** The cross-shard transfers of one createTransfers call. Each one is still a saga of its own
 * (its own id, outcome and recovery); the batch only shares their messages. The caller puts each
 * transfer's two reservations in its shards' messages, in input order among the call's local
 * transfers, records the shards' answers, and hands the batch to SagaCoordinator.finishBatch,
 * which sends one message of commits and releases per shard. */
export class SagaBatch {
  /** Input position of each saga's transfer in the caller's call. */
  readonly positions: number[] = [];
  readonly sagaIds: string[] = [];
  readonly debitShards: number[] = [];
  readonly creditShards: number[] = [];
  /** The ReserveFunds command of each saga's debit leg (sent to its debit shard) and credit leg. */
  readonly debitReserves: Command[] = [];
  readonly creditReserves: Command[] = [];
  /** The shards' answers to those commands; undefined until answered. */
  readonly debitReserved: (CommandResult | undefined)[] = [];
  readonly creditReserved: (CommandResult | undefined)[] = [];
  /** Shards where a message with this batch's reservations failed, and why. */
  readonly failed = new Map<number, unknown>();
  /** Sorted participant lists, one per shard pair, shared by the commands that name it. */
  readonly #participants = new Map<number, readonly number[]>();

  get size(): number {
    return this.sagaIds.length;
  }

  /** Adds one transfer between two different shards; returns its saga's slot in the batch. */
  add(position: number, transfer: TransferSpec, debitShard: number, creditShard: number): number {
    assert(debitShard !== creditShard, 'a saga spans two shards');
    const low = Math.min(debitShard, creditShard);
    const high = Math.max(debitShard, creditShard);
    const pairKey = low * limits.shardCountMax + high;
    let participants = this.#participants.get(pairKey);
    if (participants === undefined) this.#participants.set(pairKey, (participants = [low, high]));
    const sagaId = newSagaId();
    const slot = this.sagaIds.length;
    this.positions.push(position);
    this.sagaIds.push(sagaId);
    this.debitShards.push(debitShard);
    this.creditShards.push(creditShard);
    this.debitReserves.push({
      type: 'ReserveFunds',
      sagaId,
      participants,
      legs: [{ side: 'debit', transfer }],
    });
    this.creditReserves.push({
      type: 'ReserveFunds',
      sagaId,
      participants,
      legs: [{ side: 'credit', transfer }],
    });
    this.debitReserved.push(undefined);
    this.creditReserved.push(undefined);
    return slot;
  }

  /** The ReserveFunds of saga `slot` on `shard` (its debit or its credit leg). */
  reserveOn(slot: number, shard: number): Command {
    if (this.debitShards[slot] === shard) return this.debitReserves[slot] as Command;
    assert(this.creditShards[slot] === shard, 'a saga reserves on its two shards only');
    return this.creditReserves[slot] as Command;
  }

  /** Records `shard`'s answer to saga `slot`'s reservation there. */
  answer(slot: number, shard: number, result: CommandResult): void {
    if (this.debitShards[slot] === shard) this.debitReserved[slot] = result;
    else {
      assert(this.creditShards[slot] === shard, 'a saga reserves on its two shards only');
      this.creditReserved[slot] = result;
    }
  }

  /** The saga's transfer when it is a cross-shard hold (a pending transfer), else null. */
  holdOf(slot: number): TransferSpec | null {
    const command = this.debitReserves[slot];
    assert(command !== undefined && command.type === 'ReserveFunds', 'saga slot exists');
    const transfer = (command.legs[0] as ReservationLeg).transfer;
    return transfer.pending ? transfer : null;
  }

  participantsOf(slot: number): readonly number[] {
    const command = this.debitReserves[slot];
    assert(command !== undefined && command.type === 'ReserveFunds', 'saga slot exists');
    return command.participants;
  }
}
