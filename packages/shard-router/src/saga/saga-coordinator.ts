// Cross-shard transfers as a reserve/commit saga with compensation.
//
// Every transfer is split into a debit leg (held by the debit account's shard) and a credit leg
// (the credit account's shard). Step 1 reserves every leg, each shard's legs in one ReserveFunds
// command that is all-or-nothing on that shard: debit legs go to debitsPending, credit legs to
// creditsPending, with every limit checked. Step 2, if every shard reserved, commits everywhere
// (pending moves to posted); if any shard refused, the reservations that were made are released
// (compensation) and the refusing side's code is the result. Each step is an event in the
// owning shard's log and is idempotent by saga id, so a step is simply re-sent after a worker
// crash (saga-steps.ts). A saga left half-way is finished by recovery (saga-recovery.ts).
//
// Two callers, one engine. An atomic group spanning shards is one saga (run), answered once its
// steps are done. The cross-shard transfers of a createTransfers call are a saga each, reserved in
// the call's own shard messages (SagaBatch); their outcome is final once step 1 is answered (the
// reservations are durable, and recovery finishes them the same way), so the call is answered
// then and the step-2 messages go out behind it; each shard's reads wait for them (finishBatch).
// Both decide with saga-verdict.ts and send their steps through SagaSteps.

import {
  limits,
  type Command,
  type CommandResult,
  type CommandStatus,
  type PendingResolutionSpec,
  type ReservationLeg,
  type ReservationState,
  type TransferSpec,
} from '@shardledger/ledger-core';
import { assert, expiresAtOf, holdLegOf } from '@shardledger/ledger-core/internals';
import { SagaTally } from '../metrics-tally.js';
import { failpoint, failpointNames } from '../failpoints.js';
import { ShardBuckets } from '../shard-buckets.js';
import type { SagaBatch } from './saga-batch.js';
import { SagaHolds } from './saga-holds.js';
import { newSagaId } from './saga-id.js';
import { SagaRecovery } from './saga-recovery.js';
import { SagaSteps, isRetryable, type SagaShards } from './saga-steps.js';
import {
  finishingStep,
  groupReleased,
  legCode,
  refusedStatus,
  sagaVerdict,
} from './saga-verdict.js';

export class SagaCoordinator {
  /** Sagas committed and released since open (Ledger.metrics). */
  readonly outcomes = new SagaTally();
  readonly #steps: SagaSteps;
  readonly #recovery: SagaRecovery;
  readonly #holds: SagaHolds;

  constructor(shards: SagaShards) {
    this.#steps = new SagaSteps(shards);
    this.#recovery = new SagaRecovery(this.#steps, this.outcomes);
    this.#holds = new SagaHolds(this.#steps, this.#recovery);
  }

  /** Runs one saga over the given transfers (one transfer, or an atomic group). Returns one
   * status per transfer. */
  async run(transfers: readonly TransferSpec[]): Promise<CommandStatus[]> {
    assert(transfers.length > 0 && transfers.length <= limits.groupSizeMax, 'saga size');
    const sagaId = newSagaId();
    // Legs per shard: leg 2i is transfer i's debit leg, leg 2i + 1 its credit leg.
    const legs = new ShardBuckets<ReservationLeg>();
    const legShards: number[] = [];
    transfers.forEach((transfer, owner) => {
      const debitShard = this.#steps.shards.shardOf(transfer.debitAccountId);
      const creditShard = this.#steps.shards.shardOf(transfer.creditAccountId);
      legs.add(debitShard, { side: 'debit', transfer }, 2 * owner);
      legs.add(creditShard, { side: 'credit', transfer }, 2 * owner + 1);
      legShards.push(debitShard, creditShard);
    });
    const participants = legs.shards().sort((left, right) => left - right);
    try {
      return await this.#reserveThenFinish(sagaId, participants, legs, legShards);
    } catch (error) {
      // A step failed for good (or a failpoint threw): the saga may be half-way. Settle it in
      // the background from what the shards recorded; the caller gets the error and may retry
      // with the same ids, which is safe whatever the outcome.
      this.#recovery.resolveLater(sagaId, participants);
      throw error;
    }
  }

  async #reserveThenFinish(
    sagaId: string,
    participants: number[],
    legs: ShardBuckets<ReservationLeg>,
    legShards: readonly number[],
  ): Promise<CommandStatus[]> {
    const transferCount = legShards.length / 2;
    failpoint(failpointNames.sagaReserveBefore);
    const reserved = new Map<number, CommandResult>();
    const codes = await legs.scatter(
      new Array<CommandStatus>(legShards.length),
      async (shard, shardLegs) => {
        const command: Command = { type: 'ReserveFunds', sagaId, participants, legs: shardLegs };
        const result = await this.#steps.claim(
          shard,
          sagaId,
          await this.#steps.step(shard, command),
        );
        reserved.set(shard, result);
        return shardLegs.map((_, index) => legCode(result, index));
      },
    );
    failpoint(failpointNames.sagaReserveAfter);
    const reservations = participants.map((shard) => reserved.get(shard) as CommandResult);
    const verdict = sagaVerdict(reservations);
    if (verdict === 'exists') return new Array<CommandStatus>(transferCount).fill('exists');
    const finishing = new ShardBuckets<Command>();
    participants.forEach((shard, index) => {
      if (reservations[index]?.status === 'ok')
        finishing.add(shard, finishingStep(sagaId, verdict), index);
    });
    const release = verdict === 'release' ? 1 : 0;
    await this.#finish(finishing, release, 1 - release, null);
    if (verdict === 'commit') return new Array<CommandStatus>(transferCount).fill('ok');
    const statuses = new Array<CommandStatus>(transferCount);
    for (let owner = 0; owner < transferCount; owner += 1) {
      const debit = codes[2 * owner] as CommandStatus;
      const credit = codes[2 * owner + 1] as CommandStatus;
      // In the order the shards were asked: the lower shard's leg first (debit first on one).
      statuses[owner] =
        (legShards[2 * owner + 1] as number) < (legShards[2 * owner] as number)
          ? refusedStatus(credit, debit)
          : refusedStatus(debit, credit);
    }
    return groupReleased(statuses);
  }

  /** Finishes the sagas of one call once the caller has their reservations' answers (see
   * SagaBatch). Returns one status per saga. Every saga ends as run() would end it; if a step
   * fails for good, the unfinished sagas are settled in the background and the error is thrown. */
  async finishBatch(batch: SagaBatch): Promise<CommandStatus[]> {
    try {
      // A shard whose message failed (it restarted): re-send its reservations on their own.
      for (const [shard, error] of batch.failed) {
        if (!isRetryable(error)) throw error;
        await this.#resendReservations(batch, shard);
      }
      await this.#claimOwnReservations(batch);
      failpoint(failpointNames.sagaReserveAfter);
      const statuses = new Array<CommandStatus>(batch.size);
      const finishing = new ShardBuckets<Command>();
      const { releases, commits } = this.#decideBatch(batch, statuses, finishing);
      // Every outcome is decided and durable now: each saga was reserved (durably: saga steps
      // are always flushed) on both shards, or refused on one. Recovery would finish them the
      // same way (reserved everywhere -> commit), so the caller is answered without waiting
      // for the commit and release steps. They are queued on each shard ahead of any later
      // submit, and the shard's reads wait for them, so a caller still reads its own writes and
      // spends a credit it was answered for. A step that fails for good leaves its sagas in
      // doubt, settled in the background.
      await this.#finish(finishing, releases, commits, () => this.#resolveBatchLater(batch));
      return statuses;
    } catch (error) {
      this.#resolveBatchLater(batch);
      throw error;
    }
  }

  /** Decides each saga of the batch: writes its status and puts the steps that finish it in
   * `finishing`. A cross-shard hold reserved on both sides stays so, watched for its timeout. */
  #decideBatch(
    batch: SagaBatch,
    statuses: CommandStatus[],
    finishing: ShardBuckets<Command>,
  ): { releases: number; commits: number } {
    let releases = 0;
    let commits = 0;
    for (let slot = 0; slot < batch.size; slot += 1) {
      const debit = batch.debitReserved[slot];
      const credit = batch.creditReserved[slot];
      assert(debit !== undefined && credit !== undefined, 'both reservations answered');
      const sagaId = batch.sagaIds[slot] as string;
      const verdict = sagaVerdict([debit, credit]);
      if (verdict === 'exists') {
        statuses[slot] = 'exists';
        continue;
      }
      if (verdict === 'commit') {
        statuses[slot] = 'ok';
        // A cross-shard hold stops here, reserved on both sides, until it is posted, voided or
        // expires (SagaHolds).
        const hold = batch.holdOf(slot);
        if (hold !== null) {
          if (hold.timeoutMs > 0)
            this.#holds.watchHold(
              sagaId,
              batch.participantsOf(slot),
              batch.debitShards[slot] as number,
              Date.now() + hold.timeoutMs,
            );
          continue;
        }
        commits += 1;
      } else {
        // A saga of one transfer: released as an atomic group of one would be (groupReleased).
        const status = refusedStatus(legCode(debit, 0), legCode(credit, 0));
        statuses[slot] = status === 'ok' ? 'linked_transfer_failed' : status;
        releases += 1;
      }
      if (debit.status === 'ok')
        finishing.add(batch.debitShards[slot] as number, finishingStep(sagaId, verdict), slot);
      if (credit.status === 'ok')
        finishing.add(batch.creditShards[slot] as number, finishingStep(sagaId, verdict), slot);
    }
    return { releases, commits };
  }

  /** Sends the steps that finish decided sagas, between the failpoints of their kinds. Waits for
   * them unless `onFailure` is given (SagaSteps.sendLater). */
  async #finish(
    finishing: ShardBuckets<Command>,
    releases: number,
    commits: number,
    onFailure: (() => void) | null,
  ): Promise<void> {
    if (releases > 0) failpoint(failpointNames.sagaReleaseBefore);
    if (commits > 0) failpoint(failpointNames.sagaCommitBefore);
    if (onFailure === null) await this.#steps.sendNow(finishing);
    else this.#steps.sendLater(finishing, onFailure);
    // Decided and durable; a step that then fails for good is settled (and counted) by recovery.
    this.outcomes.add({ committed: commits, released: releases });
    if (releases > 0) failpoint(failpointNames.sagaReleaseAfter);
    if (commits > 0) failpoint(failpointNames.sagaCommitAfter);
  }

  #resolveBatchLater(batch: SagaBatch): void {
    for (let slot = 0; slot < batch.size; slot += 1)
      this.#recovery.resolveLater(batch.sagaIds[slot] as string, batch.participantsOf(slot));
  }

  /** Re-sends, alone and with retries, the reservations the batch had put in `shard`'s failed
   * messages: those of its reservations there that no message answered. */
  async #resendReservations(batch: SagaBatch, shard: number): Promise<void> {
    const slots: number[] = [];
    for (let slot = 0; slot < batch.size; slot += 1) {
      if (batch.debitShards[slot] === shard && batch.debitReserved[slot] === undefined)
        slots.push(slot);
      else if (batch.creditShards[slot] === shard && batch.creditReserved[slot] === undefined)
        slots.push(slot);
    }
    const results = await this.#steps.steps(
      shard,
      slots.map((slot) => batch.reserveOn(slot, shard)),
    );
    slots.forEach((slot, index) => batch.answer(slot, shard, results[index] as CommandResult));
  }

  /** Turns each reservation answered `exists` that is in fact this saga's own (SagaSteps.claim)
   * into `ok`, so that it is committed or released like one. */
  async #claimOwnReservations(batch: SagaBatch): Promise<void> {
    const claims: Promise<void>[] = [];
    for (let slot = 0; slot < batch.size; slot += 1) {
      const sagaId = batch.sagaIds[slot] as string;
      const debit = batch.debitReserved[slot];
      const credit = batch.creditReserved[slot];
      if (debit?.status === 'exists') {
        claims.push(
          this.#steps
            .claim(batch.debitShards[slot] as number, sagaId, debit)
            .then((result) => void (batch.debitReserved[slot] = result)),
        );
      }
      if (credit?.status === 'exists') {
        claims.push(
          this.#steps
            .claim(batch.creditShards[slot] as number, sagaId, credit)
            .then((result) => void (batch.creditReserved[slot] = result)),
        );
      }
    }
    await Promise.all(claims);
  }

  /** Posts or voids a cross-shard hold (SagaHolds.resolveHold). */
  async resolveHold(
    hold: { sagaId: string; transfer: TransferSpec; debitShard: number; creditShard: number },
    resolution: PendingResolutionSpec,
    action: 'post' | 'void',
  ): Promise<CommandStatus> {
    const status = await this.#holds.resolveHold(hold, resolution, action);
    if (status === 'ok')
      this.outcomes.add({
        committed: action === 'post' ? 1 : 0,
        released: action === 'void' ? 1 : 0,
      });
    return status;
  }

  /** Finishes every saga left open on any shard (after a crash). Returns how many. */
  async recoverAll(): Promise<{ committed: number; released: number }> {
    const open = new Map<string, ReservationState>();
    for (const client of this.#steps.shards.clients) {
      for (const reservation of await client.openReservations())
        open.set(reservation.sagaId, reservation);
    }
    let committed = 0;
    let released = 0;
    for (const [sagaId, reservation] of open) {
      const outcome = await this.#recovery.resolve(sagaId, reservation.participants);
      if (outcome === 'committed') committed += 1;
      else if (outcome === 'released') released += 1;
      else {
        // A hold open on every side: watch its timeout again (from when it was reserved).
        const hold = (holdLegOf(reservation) as ReservationLeg).transfer;
        const expiresAt = expiresAtOf(reservation.timestamp, hold.timeoutMs);
        if (expiresAt !== 0n)
          this.#holds.watchHold(
            sagaId,
            reservation.participants,
            this.#steps.shards.shardOf(hold.debitAccountId),
            Number(expiresAt / 1_000_000n),
          );
      }
    }
    return { committed, released };
  }

  /** Stops the hold timer (Ledger.close). */
  stop(): void {
    this.#holds.stop();
    this.#recovery.stop();
  }

  /** Waits until every saga in doubt is settled and every step sent without waiting answered. */
  settle(): Promise<void> {
    return this.#recovery.settle();
  }
}
