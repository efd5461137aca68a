// createTransfers, the router's hot path. Each transfer is validated and routed to the shards of
// its two accounts: one with both accounts on one shard goes into that shard's message (a plain
// transfer straight into the message's columns, with no spec or command object), the others run
// as a reserve/commit saga (saga/saga-coordinator.ts) whose reservations travel in the same messages.
// A call goes out in segments that keep transfer ids unique across shards (id-check.ts).

import {
  limits,
  type CommandStatus,
  type TransferInput,
  type TransferSpec,
} from '@shardledger/ledger-core';
import {
  assert,
  isRejected,
  plainTransferSpec,
  readPlainTransfer,
  statusOf,
  transferSpecOrRejection,
  type PlainTransferFields,
  type Rejected,
} from '@shardledger/ledger-core/internals';
import { idOf } from '../arguments.js';
import type { TransferResult } from '../ledger-types.js';
import { AccountShardMemo } from '../partition.js';
import { clientOf, type RouterParts } from '../router-parts.js';
import type { SubmitResults } from '../shard/send-queue.js';
import {
  findElsewhere,
  refuseTakenIds,
  withIdSegment,
  type CheckedTransfer,
  type IdSegment,
  type SlowId,
  type TransferIdGuard,
} from './id-check.js';
import { RoutedSegment, sagaSlotOf } from './routed-segment.js';

/** Where a segment stopped: `end`, the index the next segment starts at once this one was sent
 * (`sent`); or, when a slow id was found taken on another shard before anything was sent, the
 * end of the range to send again with each id checked. */
interface SegmentEnd {
  readonly end: number;
  readonly sent: boolean;
}

export class TransferWriter {
  readonly #parts: RouterParts;
  readonly #accountShards: AccountShardMemo;
  /** routeTransfer's output: the debit and credit shards of the transfer just routed. */
  readonly #routedShards = new Int32Array(2);
  /** readPlain's output: the fields of the plain transfer just read (one object reused by every
   * transfer: the hot path allocates nothing per transfer for it). */
  readonly #plainFields: PlainTransferFields = {
    id: '',
    debitAccountId: '',
    creditAccountId: '',
    currency: '',
    amount: 0,
  };

  constructor(parts: RouterParts) {
    this.#parts = parts;
    this.#accountShards = new AccountShardMemo({ partitions: parts.partitions });
  }

  /** Ledger.createTransfers once the call is checked: one result per input, in order. */
  async write(transfers: readonly TransferInput[]): Promise<TransferResult[]> {
    const count = transfers.length;
    const statuses = new Array<CommandStatus>(count);
    // The call goes out in segments (id-check.ts): all of it in one, unless an id may repeat one
    // sent earlier in the call to other shards (it starts the next segment), or an id turns out to
    // be taken on another shard (then that range goes again, checked one by one).
    let start = 0;
    let checkedEnd = -1;
    while (start < count) {
      const from = start;
      const until = checkedEnd;
      const stopped = await withIdSegment(this.#parts.transferIds, (segment) =>
        segment !== null && until > from
          ? this.#sendCheckedSegment(transfers, from, until, statuses, segment)
          : this.#sendSegment(transfers, from, statuses, segment),
      );
      if (stopped.sent) start = stopped.end;
      else checkedEnd = stopped.end;
    }
    const results = new Array<TransferResult>(count);
    for (let index = 0; index < count; index += 1) {
      results[index] = { id: idOf(transfers[index]), status: statuses[index] as CommandStatus };
    }
    return results;
  }

  /** Routes transfers from `start` and sends them, up to the end or an id that may repeat one
   * routed earlier in this segment to other shards. The hot path: an id above every one before
   * costs one comparison; any other (slow) id is deferred (deferSlowId) and, before anything is
   * sent, looked up on the shards that are not its home. When one is taken there, nothing is sent
   * and the caller sends start .. end again, checked (sendCheckedSegment), which gives each
   * transfer its status. */
  async #sendSegment(
    transfers: readonly TransferInput[],
    start: number,
    statuses: CommandStatus[],
    segment: IdSegment | null,
  ): Promise<SegmentEnd> {
    const count = transfers.length;
    const routed = new RoutedSegment(this.#parts.clients.length, count - start);
    const shardsOf = this.#routedShards;
    const plain = this.#plainFields;
    // Fast ids are compared here, inline, and the guard advanced once (TransferIdGuard.advance).
    const first = segment === null ? '' : (this.#parts.transferIds as TransferIdGuard).greatest;
    let greatest = first;
    /** Each slow id deferred, with its home shards. */
    let slowIds: Map<string, SlowId & { readonly seen: boolean }> | null = null;
    let index = start;
    for (; index < count; index += 1) {
      const input = transfers[index];
      let spec: TransferSpec | null;
      if (this.#readPlain(input, shardsOf)) {
        if (segment !== null) {
          if (greatest !== null && plain.id > greatest) {
            greatest = plain.id;
            (this.#parts.transferIds as TransferIdGuard).noteFast(greatest);
          } else if (
            !this.#deferSlowId(segment, plain.id, first, greatest, (slowIds ??= new Map()))
          )
            break;
        }
        if (shardsOf[0] === shardsOf[1]) {
          // The hot path: no spec or command object, straight into the shard's columns.
          routed.addPlain(shardsOf[0] as number, index, plain);
          continue;
        }
        spec = plainTransferSpec(plain);
      } else {
        spec = this.#routeOrRefuse(input, index, statuses);
        if (spec === null) continue;
        if (segment !== null) {
          if (greatest !== null && spec.id > greatest) {
            greatest = spec.id;
            (this.#parts.transferIds as TransferIdGuard).noteFast(greatest);
          } else if (!this.#deferSlowId(segment, spec.id, first, greatest, (slowIds ??= new Map())))
            break;
        }
      }
      routed.add(index, spec, shardsOf[0] as number, shardsOf[1] as number);
    }
    if (segment !== null && greatest !== first)
      (this.#parts.transferIds as TransferIdGuard).advance(segment, greatest as string);
    const lookups = slowIds === null ? [] : [...slowIds.values()].filter((entry) => entry.seen);
    if (
      lookups.length > 0 &&
      (await findElsewhere(this.#parts, segment as IdSegment, lookups)).some(
        (record) => record !== undefined,
      )
    )
      return { end: index, sent: false };
    await this.#submitRoutedSegment(routed, statuses, segment);
    return { end: index, sent: true };
  }

  /** A slow id met by sendSegment, for the transfer just routed (its shards in routedShards):
   * false when the segment must end before it, because it may repeat an id routed earlier in this
   * segment to other shards (a fast one: in (first, greatest]; or a slow one with another home),
   * so that the next segment checks it against what this one wrote, as one shard would; else
   * true, with the id deferred: marked slow, its home noted in `slowIds`. */
  #deferSlowId(
    segment: IdSegment,
    id: string,
    first: string | null,
    greatest: string | null,
    slowIds: Map<string, SlowId & { readonly seen: boolean }>,
  ): boolean {
    if (first !== null && greatest !== null && first < id && id <= greatest) return false;
    const debitShard = this.#routedShards[0] as number;
    const creditShard = this.#routedShards[1] as number;
    const earlier = slowIds.get(id);
    if (earlier !== undefined)
      return earlier.debitShard === debitShard && earlier.creditShard === creditShard;
    const seen = (this.#parts.transferIds as TransferIdGuard).takeSlow(segment, id);
    slowIds.set(id, { id, debitShard, creditShard, seen });
    return true;
  }

  /** Routes transfers `start` .. `end` - 1, refuses those whose id is taken on a shard outside
   * their home (refuseTakenIds), and sends the others; stops at `end`, or at an id met earlier in
   * this segment with other home shards (it goes in the next segment, so that the lookup sees what
   * the first one wrote, as one shard would). */
  async #sendCheckedSegment(
    transfers: readonly TransferInput[],
    start: number,
    end: number,
    statuses: CommandStatus[],
    segment: IdSegment,
  ): Promise<SegmentEnd> {
    const guard = this.#parts.transferIds as TransferIdGuard;
    const shardsOf = this.#routedShards;
    const plain = this.#plainFields;
    const checked: CheckedTransfer[] = [];
    const homeOf = new Map<string, number>();
    let index = start;
    for (; index < end; index += 1) {
      const input = transfers[index];
      const spec = this.#readPlain(input, shardsOf)
        ? plainTransferSpec(plain)
        : this.#routeOrRefuse(input, index, statuses);
      if (spec === null) continue;
      const debitShard = shardsOf[0] as number;
      const creditShard = shardsOf[1] as number;
      const home = debitShard * limits.shardCountMax + creditShard;
      const earlier = homeOf.get(spec.id);
      if (earlier !== undefined && earlier !== home) break;
      homeOf.set(spec.id, home);
      checked.push({
        index,
        id: spec.id,
        spec,
        debitShard,
        creditShard,
        slow: guard.take(segment, spec.id),
      });
    }
    await refuseTakenIds(this.#parts, segment, checked, statuses);
    const routed = new RoutedSegment(this.#parts.clients.length, checked.length);
    for (const entry of checked) {
      if (statuses[entry.index] === undefined)
        routed.add(entry.index, entry.spec as TransferSpec, entry.debitShard, entry.creditShard);
    }
    await this.#submitRoutedSegment(routed, statuses, segment);
    return { end: index, sent: true };
  }

  /** Sends the segment's messages, runs the sagas, and writes every status; throws when a shard
   * failed with same-shard transfers in a message (they are in doubt: a retry is safe). */
  async #submitRoutedSegment(
    routed: RoutedSegment,
    statuses: CommandStatus[],
    segment: IdSegment | null,
  ): Promise<void> {
    const { messages, sagas } = routed;
    let localError: unknown;
    const sends: Promise<void>[] = [];
    for (const message of messages) {
      const shard = message.shard;
      // Only the positions outlive the call: the batch is the client's until it encodes it.
      const positions = message.positions;
      const reservations = message.reservations;
      sends.push(
        clientOf(this.#parts, shard)
          .submitBatch(message.batch)
          .then(
            (results: SubmitResults) => {
              assert(results.count === positions.length, 'one result per command');
              const { view, start } = results;
              for (let index = 0; index < positions.length; index += 1) {
                const position = positions[index] as number;
                if (position >= 0) {
                  statuses[position] = view.status(start + index);
                  continue;
                }
                sagas.answer(sagaSlotOf(position), shard, view.result(start + index));
              }
            },
            (error: unknown) => {
              // Reservations are re-sent on their own by finishBatch; local transfers are left in
              // doubt, so the call fails (a retry with the same ids is safe).
              if (reservations > 0) sagas.failed.set(shard, error);
              if (reservations < positions.length && localError === undefined) localError = error;
            },
          ),
      );
    }
    // Every message of the segment is queued on its client: lookups sent from now on see them.
    segment?.markQueued();
    await Promise.all(sends);
    if (sagas.size > 0) {
      const sagaStatuses = await this.#parts.sagas.finishBatch(sagas);
      for (let slot = 0; slot < sagas.size; slot += 1)
        statuses[sagas.positions[slot] as number] = sagaStatuses[slot] as CommandStatus;
    }
    if (localError !== undefined) throw localError;
  }

  /** readPlainTransfer (validate.ts) with the account ids checked and routed by the memo:
   * true when `input` is a plain, valid transfer, whose fields are then in `plainFields` and its
   * shards in `shardsOf`. Each field of the input is read once. */
  #readPlain(input: unknown, shardsOf: Int32Array): boolean {
    const fields = this.#plainFields;
    if (!readPlainTransfer(input, fields)) return false;
    // shardOfValid returns a shard only for a valid id (isValidId).
    const debitShard = this.#accountShards.shardOfValid(fields.debitAccountId);
    if (debitShard < 0) return false;
    const creditShard = this.#accountShards.shardOfValid(fields.creditAccountId);
    if (creditShard < 0) return false;
    shardsOf[0] = debitShard;
    shardsOf[1] = creditShard;
    return true;
  }

  /** A transfer that is not plain (routeTransfer, its shards in routedShards): its spec, or null
   * with its rejection status written to `statuses[index]`. */
  #routeOrRefuse(input: unknown, index: number, statuses: CommandStatus[]): TransferSpec | null {
    const spec = this.#routeTransfer(input, this.#routedShards);
    if (!isRejected(spec)) return spec;
    statuses[index] = statusOf(spec.code);
    return null;
  }

  /** Validates one transfer and, when valid, writes the shards of its debit and credit accounts
   * to `shardsOf[0]` and `shardsOf[1]` (the router's hot path: no allocation beyond the spec). A
   * repeated account id is validated and hashed once (AccountShardMemo). */
  #routeTransfer(input: unknown, shardsOf: Int32Array): TransferSpec | Rejected {
    let debitId: unknown;
    let creditId: unknown;
    if (typeof input === 'object' && input !== null) {
      debitId = (input as { readonly debitAccountId?: unknown }).debitAccountId;
      creditId = (input as { readonly creditAccountId?: unknown }).creditAccountId;
    }
    const debitShard = this.#accountShards.shardOfValid(debitId);
    const creditShard = this.#accountShards.shardOfValid(creditId);
    const spec = transferSpecOrRejection(input, debitShard >= 0 && creditShard >= 0);
    if (isRejected(spec)) return spec;
    if (spec.debitAccountId === debitId && spec.creditAccountId === creditId) {
      shardsOf[0] = debitShard;
      shardsOf[1] = creditShard;
      return spec;
    }
    // A getter returned other ids on its second read: validate and route what the spec has.
    const checked = transferSpecOrRejection(input, false);
    if (isRejected(checked)) return checked;
    shardsOf[0] = this.#parts.partitions.shardOf(checked.debitAccountId);
    shardsOf[1] = this.#parts.partitions.shardOf(checked.creditAccountId);
    return checked;
  }
}
