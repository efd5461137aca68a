// Cross-shard transfers as a reserve/commit saga with compensation.
//
// Every transfer is split into a debit leg (held by the debit account's shard) and a credit leg
// (the credit account's shard). Step 1 reserves every leg, each shard's legs in one ReserveFunds
// command that is all-or-nothing on that shard: debit legs go to debitsPending, credit legs to
// creditsPending, with every limit checked. Step 2, if every shard reserved, commits everywhere
// (pending moves to posted); if any shard refused, the reservations that were made are released
// (compensation) and the refusing side's code is the result. Each step is an event in the
// owning shard's log and is idempotent by saga id, so a step is simply re-sent after a worker
// crash.
//
// Recovery (Ledger.open, or after a step failed for good): for every reservation still open on
// any shard, ask all participants for the saga's outcome and finish it the only consistent way:
// committed anywhere -> commit everywhere; released anywhere, or never reserved somewhere ->
// release everywhere (a release where nothing was reserved is a tombstone that refuses a late
// reservation); reserved everywhere -> commit (the caller was not answered yet, either way is
// allowed, and rolling forward loses no work).

import { randomBytes } from 'node:crypto';
import {
  LedgerError,
  assert,
  isLedgerError,
  limits,
  type CommandResult,
  type CommandStatus,
  type ReservationLeg,
  type SagaOutcome,
  type TransferSpec,
} from '@shardledger/ledger-core';
import { failpoint, failpointNames } from './failpoints.js';
import type { ShardClient } from './shard/shard-client.js';

export interface SagaShards {
  readonly clients: readonly ShardClient[];
  shardOf(accountId: string): number;
}

/** Attempts of one step while its shard restarts (SHARD_UNAVAILABLE), before giving up. */
const stepAttemptsMax = 20;
const stepRetryDelayMs = 25;

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

function strongerStatus(current: CommandStatus, candidate: CommandStatus): CommandStatus {
  return rank(candidate) < rank(current) ? candidate : current;
}

/** Saga ids must never repeat in a data dir (the saga index remembers every outcome). A random
 * 72-bit prefix per process and a counter make them unique without a crypto call per saga
 * (randomBytes was 1.5% of the main thread at 10% cross-shard). */
const sagaIdPrefix = randomBytes(9).toString('base64url');
let sagaIdCounter = 0;

function newSagaId(firstTransferId: string): string {
  sagaIdCounter += 1;
  return `${firstTransferId}~${sagaIdPrefix}${sagaIdCounter.toString(36)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with TIMEOUT after `ms`; the step itself may still land, which is safe: every step is
 * idempotent and a saga whose step timed out is settled from what the shards recorded. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LedgerError('TIMEOUT', { limitMs: ms })), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function isRetryable(error: unknown): boolean {
  return isLedgerError(error, 'SHARD_UNAVAILABLE') || isLedgerError(error, 'QUEUE_FULL');
}

export class SagaCoordinator {
  private readonly shards: SagaShards;
  /** Sagas whose outcome is not settled yet because a step failed for good; resolved in the
   * background and before verify(). */
  private readonly inDoubt = new Map<string, Promise<void>>();

  constructor(shards: SagaShards) {
    this.shards = shards;
  }

  /** Sends one step to one shard, retrying while the shard restarts. */
  private async step(shard: number, command: Parameters<ShardClient['submit']>[0][number]): Promise<CommandResult> {
    const client = this.shards.clients[shard];
    assert(client !== undefined, 'participant shard exists');
    for (let attempt = 1; ; attempt += 1) {
      try {
        const [result] = await withTimeout(client.submit([command]), limits.sagaStepTimeoutMs);
        assert(result !== undefined, 'one result per command');
        return result;
      } catch (error) {
        if (!isRetryable(error) || attempt >= stepAttemptsMax) throw error;
        await sleep(stepRetryDelayMs * Math.min(attempt, 8));
      }
    }
  }

  /** Runs one saga over the given transfers (one transfer, or an atomic group). Returns one
   * status per transfer. */
  async run(transfers: readonly TransferSpec[]): Promise<CommandStatus[]> {
    assert(transfers.length > 0 && transfers.length <= limits.groupSizeMax, 'saga size');
    const sagaId = newSagaId((transfers[0] as TransferSpec).id);
    // Legs per shard, remembering which transfer each leg belongs to.
    const legsByShard = new Map<number, { legs: ReservationLeg[]; owners: number[] }>();
    const addLeg = (shard: number, leg: ReservationLeg, owner: number): void => {
      let entry = legsByShard.get(shard);
      if (entry === undefined) legsByShard.set(shard, (entry = { legs: [], owners: [] }));
      entry.legs.push(leg);
      entry.owners.push(owner);
    };
    transfers.forEach((transfer, owner) => {
      addLeg(this.shards.shardOf(transfer.debitAccountId), { side: 'debit', transfer }, owner);
      addLeg(this.shards.shardOf(transfer.creditAccountId), { side: 'credit', transfer }, owner);
    });
    const participants = [...legsByShard.keys()].sort((left, right) => left - right);
    try {
      return await this.reserveThenFinish(sagaId, participants, legsByShard, transfers.length);
    } catch (error) {
      // A step failed for good (or a failpoint threw): the saga may be half-way. Settle it in
      // the background from what the shards recorded; the caller gets the error and may retry
      // with the same ids, which is safe whatever the outcome.
      this.resolveLater(sagaId, participants);
      throw error;
    }
  }

  private async reserveThenFinish(
    sagaId: string,
    participants: number[],
    legsByShard: Map<number, { legs: ReservationLeg[]; owners: number[] }>,
    transferCount: number,
  ): Promise<CommandStatus[]> {
    failpoint(failpointNames.sagaReserveBefore);
    const reservations = await Promise.all(
      participants.map(async (shard) => {
        const entry = legsByShard.get(shard) as { legs: ReservationLeg[] };
        const result = await this.step(shard, { type: 'ReserveFunds', sagaId, participants, legs: entry.legs });
        return result.status === 'exists' ? this.ownReservation(shard, sagaId, result) : result;
      }),
    );
    failpoint(failpointNames.sagaReserveAfter);
    const statuses: CommandStatus[] = new Array<CommandStatus>(transferCount).fill('ok');
    let refused = false;
    let allExist = true;
    reservations.forEach((result, index) => {
      const shard = participants[index] as number;
      if (result.status !== 'exists') allExist = false;
      if (result.status === 'ok' || result.status === 'exists') return;
      refused = true;
      const owners = (legsByShard.get(shard) as { owners: number[] }).owners;
      owners.forEach((owner, legIndex) => {
        const code = result.statuses?.[legIndex] ?? result.status;
        statuses[owner] = strongerStatus(statuses[owner] as CommandStatus, code);
      });
    });
    if (allExist) return statuses.map(() => 'exists');
    if (refused) {
      failpoint(failpointNames.sagaReleaseBefore);
      await Promise.all(
        participants.map((shard, index) =>
          reservations[index]?.status === 'ok'
            ? this.step(shard, { type: 'ReleaseReservation', sagaId, reason: 'refused' })
            : Promise.resolve(undefined),
        ),
      );
      failpoint(failpointNames.sagaReleaseAfter);
      const firstCode = statuses.find((status) => status !== 'ok' && status !== 'linked_transfer_failed') ?? 'linked_transfer_failed';
      return statuses.map((status) => (status === 'ok' ? (transferCount > 1 ? 'linked_transfer_failed' : firstCode) : status));
    }
    failpoint(failpointNames.sagaCommitBefore);
    await Promise.all(
      participants.map((shard, index) =>
        reservations[index]?.status === 'ok'
          ? this.step(shard, { type: 'CommitReservation', sagaId })
          : Promise.resolve(undefined),
      ),
    );
    failpoint(failpointNames.sagaCommitAfter);
    return statuses;
  }

  /** A ReserveFunds answered `exists` means either "these transfers are already posted here" or
   * "this very saga is reserved here": the latter happens when the worker died after committing
   * the reservation but before replying, and step() re-sent it. Only the shard's saga record
   * tells them apart; our own reservation must be committed or released like an `ok` one, or it
   * stays open with the money half-moved. */
  private async ownReservation(shard: number, sagaId: string, result: CommandResult): Promise<CommandResult> {
    const client = this.shards.clients[shard];
    assert(client !== undefined, 'participant shard exists');
    const outcome = await client.sagaOutcome(sagaId);
    return outcome === 'reserved' || outcome === 'committed' ? { ...result, status: 'ok' } : result;
  }

  private resolveLater(sagaId: string, participants: readonly number[]): void {
    if (this.inDoubt.has(sagaId)) return;
    const resolving = (async (): Promise<void> => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await this.resolve(sagaId, participants);
          return;
        } catch (error) {
          if (attempt >= stepAttemptsMax) throw error;
          await sleep(stepRetryDelayMs * Math.min(attempt, 8));
        }
      }
    })().finally(() => this.inDoubt.delete(sagaId));
    resolving.catch(() => undefined);
    this.inDoubt.set(sagaId, resolving);
  }

  /** Finishes one saga from what its participants recorded (see the file comment). */
  async resolve(sagaId: string, participants: readonly number[]): Promise<'committed' | 'released'> {
    const outcomes = await Promise.all(
      participants.map(async (shard): Promise<SagaOutcome | undefined> => {
        const client = this.shards.clients[shard];
        assert(client !== undefined, 'participant shard exists');
        return client.sagaOutcome(sagaId);
      }),
    );
    const anyCommitted = outcomes.some((outcome) => outcome === 'committed');
    const anyReleased = outcomes.some((outcome) => outcome === 'released');
    assert(!(anyCommitted && anyReleased), `saga ${sagaId} both committed and released`);
    const allReserved = outcomes.length > 0 && outcomes.every((outcome) => outcome === 'reserved');
    const decision = anyCommitted || allReserved ? 'committed' : 'released';
    await Promise.all(
      participants.map((shard, index) => {
        const outcome = outcomes[index];
        if (decision === 'committed') {
          return outcome === 'reserved' ? this.step(shard, { type: 'CommitReservation', sagaId }) : undefined;
        }
        return outcome === 'released' ? undefined : this.step(shard, { type: 'ReleaseReservation', sagaId, reason: 'recovery' });
      }),
    );
    return decision;
  }

  /** Finishes every saga left open on any shard (after a crash). Returns how many. */
  async recoverAll(): Promise<{ committed: number; released: number }> {
    const open = new Map<string, readonly number[]>();
    for (const client of this.shards.clients) {
      for (const reservation of await client.openReservations()) open.set(reservation.sagaId, reservation.participants);
    }
    let committed = 0;
    let released = 0;
    for (const [sagaId, participants] of open) {
      if ((await this.resolve(sagaId, participants)) === 'committed') committed += 1;
      else released += 1;
    }
    return { committed, released };
  }

  /** Waits until every saga in doubt is settled (and re-scans the shards for open ones). */
  async settle(): Promise<void> {
    while (this.inDoubt.size > 0) await Promise.allSettled([...this.inDoubt.values()]);
  }
}
