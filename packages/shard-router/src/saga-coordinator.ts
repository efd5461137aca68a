// Cross-shard transfers as a reserve/commit saga with compensation.
//
// Every transfer is split into a debit leg (held by the debit account's shard) and a credit leg
// (the credit account's shard). Step 1 reserves every leg, each shard's legs in one ReserveFunds
// command that is all-or-nothing on that shard: debit legs go to debitsPending, credit legs to
// creditsPending, with every limit checked. Step 2, if every shard reserved, commits everywhere
// (pending moves to posted); if any shard refused, the reservations that were made are released
// (compensation) and the refusing side's code is the result. Each step is an event in the
// owning shard's log and is idempotent by saga id, so a step is simply re-sent after a worker
// crash. For the sagas of a createTransfers call the outcome is final once step 1 is answered
// (the reservations are durable, and recovery finishes them the same way), so the call is
// answered then and the step-2 messages go out behind it; each shard's reads wait for them
// (finishBatch).
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
  expiresAtOf,
  holdLegOf,
  isLedgerError,
  limits,
  type Command,
  type CommandResult,
  type CommandStatus,
  type PendingResolutionSpec,
  type ReservationLeg,
  type ReservationState,
  type SagaOutcome,
  type TransferSpec,
} from '@shardledger/ledger-core';
import { failpoint, failpointNames } from './failpoints.js';
import type { ShardClient } from './shard/shard-client.js';

/** What the coordinator needs of one shard. ShardClient in the router; the fault simulator
 * (test/sim/) puts an in-process ShardEngine behind a seeded network instead. */
export type SagaShard = Pick<
  ShardClient,
  | 'submit'
  | 'sagaOutcome'
  | 'reservation'
  | 'lookupTransfers'
  | 'openReservations'
  | 'holdReadsUntil'
>;

export interface SagaShards {
  readonly clients: readonly SagaShard[];
  shardOf(accountId: string): number;
  /** How long one step may take before the call gives up with TIMEOUT (LedgerOptions). */
  readonly stepTimeoutMs: number;
  /** Waits between retries; real timers unless given (the simulator passes its own clock's). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The shortest time between two passes that expire cross-shard holds (see SagaCoordinator). */
const holdTickMs = 100;

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

/** How a saga ends once every participant answered its ReserveFunds: 'exists' when every one
 * already held it (the transfers were posted before), 'release' when any refused, else 'commit'. */
type SagaVerdict = 'exists' | 'release' | 'commit';

function sagaVerdict(reservations: readonly CommandResult[]): SagaVerdict {
  let allExist = true;
  for (const { status } of reservations) {
    if (status !== 'ok' && status !== 'exists') return 'release';
    if (status !== 'exists') allExist = false;
  }
  return allExist ? 'exists' : 'commit';
}

/** The step that finishes, by `verdict`, a reservation this saga made (answered `ok`). */
function finishingStep(sagaId: string, verdict: 'commit' | 'release'): Command {
  return verdict === 'commit'
    ? { type: 'CommitReservation', sagaId }
    : { type: 'ReleaseReservation', sagaId, reason: 'refused' };
}

/** The code a refused one-leg reservation stands for. */
function legStatus(result: CommandResult): CommandStatus {
  return result.statuses?.[0] ?? result.status;
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
  /** Shards whose message with this batch's reservations failed, and why. */
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
    const sagaId = newSagaId(transfer.id);
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

export class SagaCoordinator {
  private readonly shards: SagaShards;
  /** Sagas whose outcome is not settled yet because a step failed for good; resolved in the
   * background and before verify(). */
  private readonly inDoubt = new Map<string, Promise<void>>();
  /** Commit and release steps sent after their callers were answered (finishLater). */
  private readonly finishing = new Set<Promise<void>>();

  constructor(shards: SagaShards) {
    this.shards = shards;
  }

  private client(shard: number): SagaShard {
    const client = this.shards.clients[shard];
    assert(client !== undefined, 'participant shard exists');
    return client;
  }

  /** Sends one step to one shard, retrying while the shard restarts. */
  private async step(shard: number, command: Command): Promise<CommandResult> {
    const [result] = await this.steps(shard, [command]);
    assert(result !== undefined, 'one result per command');
    return result;
  }

  /** Sends steps of several sagas to one shard in one call, retrying while the shard restarts
   * (every step is idempotent by saga id, so a re-sent batch changes nothing already done). */
  private async steps(shard: number, commands: readonly Command[]): Promise<CommandResult[]> {
    const client = this.client(shard);
    for (let attempt = 1; ; attempt += 1) {
      const submitted = client.submit(commands);
      try {
        const results = await withTimeout(submitted, this.shards.stepTimeoutMs);
        assert(results.length === commands.length, 'one result per command');
        return results;
      } catch (error) {
        // Timed out, the step may still be queued on the worker: the shard's reads (the router's
        // transfer-id lookups among them) wait until it is done, so that none misses it.
        if (isLedgerError(error, 'TIMEOUT')) client.holdReadsUntil(submitted);
        if (!isRetryable(error) || attempt >= stepAttemptsMax) throw error;
        await (this.shards.sleep ?? sleep)(stepRetryDelayMs * Math.min(attempt, 8));
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
        const result = await this.step(shard, {
          type: 'ReserveFunds',
          sagaId,
          participants,
          legs: entry.legs,
        });
        return result.status === 'exists' ? this.ownReservation(shard, sagaId, result) : result;
      }),
    );
    failpoint(failpointNames.sagaReserveAfter);
    const statuses: CommandStatus[] = new Array<CommandStatus>(transferCount).fill('ok');
    const verdict = sagaVerdict(reservations);
    if (verdict === 'exists') return statuses.map(() => 'exists');
    reservations.forEach((result, index) => {
      const shard = participants[index] as number;
      if (result.status === 'ok' || result.status === 'exists') return;
      const owners = (legsByShard.get(shard) as { owners: number[] }).owners;
      owners.forEach((owner, legIndex) => {
        const code = result.statuses?.[legIndex] ?? result.status;
        statuses[owner] = strongerStatus(statuses[owner] as CommandStatus, code);
      });
    });
    if (verdict === 'release') {
      failpoint(failpointNames.sagaReleaseBefore);
      await Promise.all(
        participants.map((shard, index) =>
          reservations[index]?.status === 'ok'
            ? this.step(shard, finishingStep(sagaId, verdict))
            : Promise.resolve(undefined),
        ),
      );
      failpoint(failpointNames.sagaReleaseAfter);
      const firstCode =
        statuses.find((status) => status !== 'ok' && status !== 'linked_transfer_failed') ??
        'linked_transfer_failed';
      return statuses.map((status) =>
        status === 'ok' ? (transferCount > 1 ? 'linked_transfer_failed' : firstCode) : status,
      );
    }
    failpoint(failpointNames.sagaCommitBefore);
    await Promise.all(
      participants.map((shard, index) =>
        reservations[index]?.status === 'ok'
          ? this.step(shard, finishingStep(sagaId, 'commit'))
          : Promise.resolve(undefined),
      ),
    );
    failpoint(failpointNames.sagaCommitAfter);
    return statuses;
  }

  /** Finishes the sagas of one call once the caller has their reservations' answers (see
   * SagaBatch). Returns one status per saga. Every saga ends as run() would end it; if a step
   * fails for good, the unfinished sagas are settled in the background and the error is thrown. */
  async finishBatch(batch: SagaBatch): Promise<CommandStatus[]> {
    const count = batch.size;
    try {
      // A shard whose message failed (it restarted): re-send its reservations on their own.
      for (const [shard, error] of batch.failed) {
        if (!isRetryable(error)) throw error;
        await this.resendReservations(batch, shard);
      }
      await this.claimOwnReservations(batch);
      failpoint(failpointNames.sagaReserveAfter);
      const statuses = new Array<CommandStatus>(count);
      const finishing = new Map<number, Command[]>();
      const send = (shard: number, command: Command): void => {
        let commands = finishing.get(shard);
        if (commands === undefined) finishing.set(shard, (commands = []));
        commands.push(command);
      };
      let releases = 0;
      let commits = 0;
      for (let slot = 0; slot < count; slot += 1) {
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
          // expires (resolveHold, expireHold).
          const hold = batch.holdOf(slot);
          if (hold !== null) {
            if (hold.timeoutMs > 0)
              this.watchHold(
                sagaId,
                batch.participantsOf(slot),
                batch.debitShards[slot] as number,
                Date.now() + hold.timeoutMs,
              );
            continue;
          }
          commits += 1;
        } else {
          const debitHeld = debit.status === 'ok' || debit.status === 'exists';
          const creditHeld = credit.status === 'ok' || credit.status === 'exists';
          statuses[slot] = debitHeld
            ? legStatus(credit)
            : creditHeld
              ? legStatus(debit)
              : strongerStatus(legStatus(debit), legStatus(credit));
          releases += 1;
        }
        if (debit.status === 'ok')
          send(batch.debitShards[slot] as number, finishingStep(sagaId, verdict));
        if (credit.status === 'ok')
          send(batch.creditShards[slot] as number, finishingStep(sagaId, verdict));
      }
      if (releases > 0) failpoint(failpointNames.sagaReleaseBefore);
      if (commits > 0) failpoint(failpointNames.sagaCommitBefore);
      // Every outcome is decided and durable now: each saga was reserved (durably: saga steps
      // are always flushed) on both shards, or refused on one. Recovery would finish them the
      // same way (reserved everywhere -> commit), so the caller is answered without waiting
      // for the commit and release steps. They are queued on each shard ahead of any later
      // submit, and the shard's reads wait for them (ShardClient.holdReadsUntil), so a caller
      // still reads its own writes and spends a credit it was answered for. A step that fails
      // for good leaves its sagas in doubt, settled in the background as before.
      this.finishLater(batch, finishing);
      if (releases > 0) failpoint(failpointNames.sagaReleaseAfter);
      if (commits > 0) failpoint(failpointNames.sagaCommitAfter);
      return statuses;
    } catch (error) {
      for (let slot = 0; slot < count; slot += 1)
        this.resolveLater(batch.sagaIds[slot] as string, batch.participantsOf(slot));
      throw error;
    }
  }

  /** Sends the decided commit and release steps of a batch without waiting for them (see
   * finishBatch). settle() waits for them; a failure settles the batch's sagas in the background. */
  private finishLater(batch: SagaBatch, finishing: Map<number, Command[]>): void {
    for (const [shard, commands] of finishing) {
      const client = this.client(shard);
      const sent = this.steps(shard, commands);
      client.holdReadsUntil(sent);
      const tracked: Promise<void> = sent.then(
        () => undefined,
        () => {
          for (let slot = 0; slot < batch.size; slot += 1)
            this.resolveLater(batch.sagaIds[slot] as string, batch.participantsOf(slot));
        },
      );
      this.finishing.add(tracked);
      void tracked.finally(() => this.finishing.delete(tracked));
    }
  }

  /** Re-sends, alone and with retries, the reservations the batch had put in `shard`'s failed
   * message. */
  private async resendReservations(batch: SagaBatch, shard: number): Promise<void> {
    const slots: number[] = [];
    for (let slot = 0; slot < batch.size; slot += 1) {
      if (batch.debitShards[slot] === shard || batch.creditShards[slot] === shard) slots.push(slot);
    }
    const results = await this.steps(
      shard,
      slots.map((slot) => batch.reserveOn(slot, shard)),
    );
    slots.forEach((slot, index) => batch.answer(slot, shard, results[index] as CommandResult));
  }

  /** Turns each reservation answered `exists` that is in fact this saga's own (see
   * ownReservation) into `ok`, so that it is committed or released like one. */
  private async claimOwnReservations(batch: SagaBatch): Promise<void> {
    const claims: Promise<void>[] = [];
    for (let slot = 0; slot < batch.size; slot += 1) {
      const sagaId = batch.sagaIds[slot] as string;
      const debit = batch.debitReserved[slot];
      const credit = batch.creditReserved[slot];
      if (debit?.status === 'exists') {
        claims.push(
          this.ownReservation(batch.debitShards[slot] as number, sagaId, debit).then(
            (result) => void (batch.debitReserved[slot] = result),
          ),
        );
      }
      if (credit?.status === 'exists') {
        claims.push(
          this.ownReservation(batch.creditShards[slot] as number, sagaId, credit).then(
            (result) => void (batch.creditReserved[slot] = result),
          ),
        );
      }
    }
    await Promise.all(claims);
  }

  /** A ReserveFunds answered `exists` means either "these transfers are already posted here" or
   * "this very saga is reserved here": the latter happens when the worker died after committing
   * the reservation but before replying, and step() re-sent it. Only the shard's saga record
   * tells them apart; our own reservation must be committed or released like an `ok` one, or it
   * stays open with the money half-moved. */
  private async ownReservation(
    shard: number,
    sagaId: string,
    result: CommandResult,
  ): Promise<CommandResult> {
    const client = this.client(shard);
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
          await (this.shards.sleep ?? sleep)(stepRetryDelayMs * Math.min(attempt, 8));
        }
      }
    })().finally(() => this.inDoubt.delete(sagaId));
    resolving.catch(() => undefined);
    this.inDoubt.set(sagaId, resolving);
  }

  /** Finishes one saga from what its participants recorded (see the file comment). A cross-shard
   * hold reserved on every side stays open ('held'); one that its deciding shard posted or voided
   * is finished the same way on the other, with the amount posted there. */
  async resolve(
    sagaId: string,
    participants: readonly number[],
  ): Promise<'committed' | 'released' | 'held'> {
    const outcomes = await Promise.all(
      participants.map((shard): Promise<SagaOutcome | undefined> =>
        this.client(shard).sagaOutcome(sagaId),
      ),
    );
    const anyCommitted = outcomes.some((outcome) => outcome === 'committed');
    const anyReleased = outcomes.some((outcome) => outcome === 'released');
    assert(!(anyCommitted && anyReleased), `saga ${sagaId} both committed and released`);
    const allReserved = outcomes.length > 0 && outcomes.every((outcome) => outcome === 'reserved');
    const reservedAt = outcomes.findIndex((outcome) => outcome === 'reserved');
    const open =
      reservedAt === -1
        ? undefined
        : await this.client(participants[reservedAt] as number).reservation(sagaId);
    const hold = open === undefined ? null : (holdLegOf(open)?.transfer ?? null);
    if (allReserved && hold !== null) return 'held';
    const decision = anyCommitted || allReserved ? 'committed' : 'released';
    // A hold finishes as its other side did: the amount posted there, or voided or expired.
    let commit: Command = { type: 'CommitReservation', sagaId };
    let release: Command = { type: 'ReleaseReservation', sagaId, reason: 'recovery' };
    if (hold !== null) {
      const closedAt = outcomes.findIndex(
        (outcome) => outcome === (decision === 'committed' ? 'committed' : 'released'),
      );
      const [record] =
        closedAt === -1
          ? [undefined]
          : await this.client(participants[closedAt] as number).lookupTransfers([hold.id]);
      if (
        decision === 'committed' &&
        record?.postedAmount !== null &&
        record?.postedAmount !== undefined
      )
        commit = { type: 'CommitReservation', sagaId, amount: record.postedAmount };
      if (record?.state === 'voided' || record?.state === 'expired')
        release = { type: 'ReleaseReservation', sagaId, reason: record.state };
    }
    await Promise.all(
      participants.map((shard, index) => {
        const outcome = outcomes[index];
        if (decision === 'committed')
          return outcome === 'reserved' ? this.step(shard, commit) : undefined;
        return outcome === 'released' ? undefined : this.step(shard, release);
      }),
    );
    return decision;
  }

  /** Posts or voids a cross-shard hold. Its debit shard decides, as a single shard would, and
   * records the post or void (`decide`, carrying the resolution); the credit shard then commits
   * the amount decided, or releases. Returns the deciding shard's status. A failure after the
   * decision leaves the saga to resolve(), which finishes it the same way. */
  async resolveHold(
    hold: { sagaId: string; transfer: TransferSpec; debitShard: number; creditShard: number },
    resolution: PendingResolutionSpec,
    action: 'post' | 'void',
  ): Promise<CommandStatus> {
    const participants = [
      Math.min(hold.debitShard, hold.creditShard),
      Math.max(hold.debitShard, hold.creditShard),
    ];
    const decide: Command =
      action === 'post'
        ? { type: 'CommitReservation', sagaId: hold.sagaId, resolution }
        : { type: 'ReleaseReservation', sagaId: hold.sagaId, reason: 'voided', resolution };
    let decided: CommandResult;
    try {
      decided = await this.step(hold.debitShard, decide);
    } catch (error) {
      this.resolveLater(hold.sagaId, participants);
      throw error;
    }
    // 'exists': this very post or void was decided before (a retry): make sure the other side
    // followed, from what the deciding shard recorded.
    if (decided.status === 'exists') this.resolveLater(hold.sagaId, participants);
    if (decided.status !== 'ok') return decided.status;
    this.#holds.delete(hold.sagaId);
    try {
      failpoint(failpointNames.sagaHoldDecided);
    } catch (error) {
      this.resolveLater(hold.sagaId, participants);
      throw error;
    }
    // The credit shard posts the amount decided (its event carries it only when it is less).
    const follow: Command =
      action === 'void'
        ? { type: 'ReleaseReservation', sagaId: hold.sagaId, reason: 'voided' }
        : {
            type: 'CommitReservation',
            sagaId: hold.sagaId,
            amount: resolution.amount ?? hold.transfer.amount,
          };
    await this.#follow(hold.sagaId, participants, [hold.creditShard], follow);
    return 'ok';
  }

  /** The steps that follow a hold's decision on its other shards. Decided and durable: the caller
   * is answered even if they fail for now (the saga is then resolved in the background), and the
   * shards' reads wait for them, so whoever asks after the call sees the result. */
  async #follow(
    sagaId: string,
    participants: readonly number[],
    shards: readonly number[],
    command: Command,
  ): Promise<void> {
    try {
      await Promise.all(
        shards.map((shard) => {
          const followed = this.step(shard, command);
          this.client(shard).holdReadsUntil(followed);
          return followed;
        }),
      );
    } catch {
      this.resolveLater(sagaId, participants);
    }
  }

  /** Cross-shard holds with a timeout: saga id -> when it expires (the router's clock), its
   * participants and its deciding (debit) shard. One timer for the earliest, firing at most every
   * holdTickMs, so that many holds due close together are expired in one pass over the map
   * (each pass is O(holds)). */
  readonly #holds = new Map<
    string,
    { deadlineMs: number; participants: readonly number[]; debitShard: number }
  >();
  #holdTimer: NodeJS.Timeout | null = null;
  #lastHoldPassMs = 0;
  #stopped = false;

  /** Expires the hold at `deadlineMs` unless it is posted or voided first. */
  watchHold(
    sagaId: string,
    participants: readonly number[],
    debitShard: number,
    deadlineMs: number,
  ): void {
    if (this.#stopped) return;
    this.#holds.set(sagaId, { deadlineMs, participants, debitShard });
    this.#scheduleHolds();
  }

  #scheduleHolds(): void {
    if (this.#holdTimer !== null || this.#holds.size === 0 || this.#stopped) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const hold of this.#holds.values()) earliest = Math.min(earliest, hold.deadlineMs);
    const at = Math.max(earliest, this.#lastHoldPassMs + holdTickMs);
    this.#holdTimer = setTimeout(
      () => {
        this.#holdTimer = null;
        this.#lastHoldPassMs = Date.now();
        void this.#expireDue();
      },
      Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)),
    );
    this.#holdTimer.unref();
  }

  async #expireDue(): Promise<void> {
    const now = Date.now();
    const due = [...this.#holds].filter(([, hold]) => hold.deadlineMs <= now);
    await Promise.allSettled(due.map(([sagaId, hold]) => this.#expireHold(sagaId, hold)));
    this.#scheduleHolds();
  }

  /** Expires one hold: released on its deciding shard first, then on the other. Only when this
   * release is the one that closed it there: one refused (posted meanwhile) or found closed (a
   * void got there first, and finishes the other side itself) stops here. A failure on the
   * deciding shard is tried again a second later; after it, the saga is resolved. */
  async #expireHold(
    sagaId: string,
    hold: { deadlineMs: number; participants: readonly number[]; debitShard: number },
  ): Promise<void> {
    let decided: CommandResult;
    try {
      decided = await this.step(hold.debitShard, {
        type: 'ReleaseReservation',
        sagaId,
        reason: 'expired',
      });
    } catch {
      if (!this.#stopped) this.#holds.set(sagaId, { ...hold, deadlineMs: Date.now() + 1000 });
      return;
    }
    this.#holds.delete(sagaId);
    if (decided.status !== 'ok') return;
    const others = hold.participants.filter((shard) => shard !== hold.debitShard);
    await this.#follow(sagaId, hold.participants, others, {
      type: 'ReleaseReservation',
      sagaId,
      reason: 'expired',
    });
  }

  /** Stops the hold timer (Ledger.close). */
  stop(): void {
    this.#stopped = true;
    if (this.#holdTimer !== null) clearTimeout(this.#holdTimer);
    this.#holdTimer = null;
  }

  /** Finishes every saga left open on any shard (after a crash). Returns how many. */
  async recoverAll(): Promise<{ committed: number; released: number }> {
    const open = new Map<string, ReservationState>();
    for (const client of this.shards.clients) {
      for (const reservation of await client.openReservations())
        open.set(reservation.sagaId, reservation);
    }
    let committed = 0;
    let released = 0;
    for (const [sagaId, reservation] of open) {
      const outcome = await this.resolve(sagaId, reservation.participants);
      if (outcome === 'committed') committed += 1;
      else if (outcome === 'released') released += 1;
      else {
        // A hold open on every side: watch its timeout again (from when it was reserved).
        const hold = (holdLegOf(reservation) as ReservationLeg).transfer;
        const expiresAt = expiresAtOf(reservation.timestamp, hold.timeoutMs);
        if (expiresAt !== 0n)
          this.watchHold(
            sagaId,
            reservation.participants,
            this.shards.shardOf(hold.debitAccountId),
            Number(expiresAt / 1_000_000n),
          );
      }
    }
    return { committed, released };
  }

  /** Waits until every saga in doubt is settled (and re-scans the shards for open ones). */
  async settle(): Promise<void> {
    while (this.finishing.size > 0 || this.inDoubt.size > 0) {
      await Promise.allSettled([...this.finishing, ...this.inDoubt.values()]);
    }
  }
}
