// Recovery of sagas left half-way (Ledger.open, or after a step failed for good): for every
// reservation still open on any shard, ask all participants for the saga's outcome and finish it
// the only consistent way: committed anywhere -> commit everywhere; released anywhere, or never
// reserved somewhere -> release everywhere (a release where nothing was reserved is a tombstone
// that refuses a late reservation); reserved everywhere -> commit (the caller was not answered
// yet, either way is allowed, and rolling forward loses no work).

import {
  isLedgerError,
  type Command,
  type HoldResolution,
  type SagaOutcome,
} from '@shardledger/ledger-core';
import { assert, holdLegOf } from '@shardledger/ledger-core/internals';
import type { SagaTally } from '../metrics-tally.js';
import { stepAttemptsMax, type SagaSteps } from './saga-steps.js';

export class SagaRecovery {
  readonly #steps: SagaSteps;
  readonly #outcomes: SagaTally;
  /** Sagas whose outcome is not settled yet because a step failed for good; resolved in the
   * background and before verify(). */
  readonly #inDoubt = new Map<string, Promise<void>>();
  /** Set when the ledger closes: a saga still waiting for its streams' quorum is then left to
   * the next open, which finishes it as after a crash. */
  #stopped = false;

  constructor(steps: SagaSteps, outcomes: SagaTally) {
    this.#steps = steps;
    this.#outcomes = outcomes;
  }

  /** Settles the saga in the background, retrying while its shards are unavailable. */
  resolveLater(sagaId: string, participants: readonly number[]): void {
    if (this.#inDoubt.has(sagaId)) return;
    const resolving = (async (): Promise<void> => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await this.resolve(sagaId, participants);
          return;
        } catch (error) {
          // Without a quorum the shards refuse every step until it returns, which may be long
          // after these attempts: keep waiting for it, as for a restarting worker.
          const waiting = isLedgerError(error, 'REPLICATION_UNAVAILABLE') && !this.#stopped;
          if (!waiting && attempt >= stepAttemptsMax) throw error;
          await this.#steps.backOff(attempt);
        }
      }
    })().finally(() => this.#inDoubt.delete(sagaId));
    resolving.catch(() => undefined);
    this.#inDoubt.set(sagaId, resolving);
  }

  /** Finishes one saga from what its participants recorded (see the file comment). A cross-shard
   * hold reserved on every side stays open ('held'); one that its deciding shard posted or voided
   * is finished the same way on the other, with the amount posted there, and the post or void
   * itself (the hold's record there names it), which that side records too. */
  async resolve(
    sagaId: string,
    participants: readonly number[],
  ): Promise<'committed' | 'released' | 'held'> {
    const steps = this.#steps;
    const outcomes = await Promise.all(
      participants.map((shard): Promise<SagaOutcome | undefined> =>
        steps.client(shard).sagaOutcome(sagaId),
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
        : await steps.client(participants[reservedAt] as number).reservation(sagaId);
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
      const closed = closedAt === -1 ? null : steps.client(participants[closedAt] as number);
      const [record] = closed === null ? [undefined] : await closed.lookupTransfers([hold.id]);
      const [resolution] =
        closed === null || record?.resolvedBy === undefined
          ? [undefined]
          : await closed.lookupTransfers([record.resolvedBy]);
      const followed: { follows?: HoldResolution } =
        resolution === undefined
          ? {}
          : { follows: { id: resolution.id, metadata: resolution.metadata } };
      if (
        decision === 'committed' &&
        record?.postedAmount !== null &&
        record?.postedAmount !== undefined
      )
        commit = { type: 'CommitReservation', sagaId, amount: record.postedAmount, ...followed };
      if (record?.state === 'voided')
        release = { type: 'ReleaseReservation', sagaId, reason: record.state, ...followed };
      if (record?.state === 'expired')
        release = { type: 'ReleaseReservation', sagaId, reason: record.state };
    }
    await Promise.all(
      participants.map((shard, index) => {
        const outcome = outcomes[index];
        if (decision === 'committed')
          return outcome === 'reserved' ? steps.step(shard, commit) : undefined;
        return outcome === 'released' ? undefined : steps.step(shard, release);
      }),
    );
    this.#outcomes.add({
      committed: decision === 'committed' ? 1 : 0,
      released: decision === 'released' ? 1 : 0,
    });
    return decision;
  }

  /** Stops waiting for a lost quorum (Ledger.close). */
  stop(): void {
    this.#stopped = true;
  }

  /** Waits until every saga in doubt is settled, and every finishing step sent without waiting
   * has been answered. */
  async settle(): Promise<void> {
    const sending = this.#steps.sending;
    while (sending.size > 0 || this.#inDoubt.size > 0) {
      await Promise.allSettled([...sending, ...this.#inDoubt.values()]);
    }
  }
}
