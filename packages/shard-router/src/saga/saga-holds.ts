// Cross-shard holds: a pending transfer between two shards is a saga that stays reserved on both
// until it is posted, voided or expires. Its debit shard decides, as a single shard would; the
// credit shard follows. Holds with a timeout are expired here, by the router's clock.

import {
  type Command,
  type CommandResult,
  type CommandStatus,
  type HoldResolution,
  type PendingResolutionSpec,
  type TransferSpec,
} from '@shardledger/ledger-core';
import { failpoint, failpointNames } from '../failpoints.js';
import type { SagaRecovery } from './saga-recovery.js';
import type { SagaSteps } from './saga-steps.js';

/** The shortest time between two passes that expire cross-shard holds. */
const holdTickMs = 100;

/** A watched hold: when it expires (the router's clock), its participants and its deciding
 * (debit) shard. */
interface WatchedHold {
  readonly deadlineMs: number;
  readonly participants: readonly number[];
  readonly debitShard: number;
}

export class SagaHolds {
  readonly #steps: SagaSteps;
  readonly #recovery: SagaRecovery;
  /** Cross-shard holds with a timeout, by saga id. One timer for the earliest, firing at most
   * every holdTickMs, so that many holds due close together are expired in one pass over the map
   * (each pass is O(holds)). */
  readonly #holds = new Map<string, WatchedHold>();
  #holdTimer: NodeJS.Timeout | null = null;
  #lastHoldPassMs = 0;
  #stopped = false;

  constructor(steps: SagaSteps, recovery: SagaRecovery) {
    this.#steps = steps;
    this.#recovery = recovery;
  }

  /** Posts or voids a cross-shard hold. Its debit shard decides, as a single shard would, and
   * records the post or void (`decide`, carrying the resolution); the credit shard then commits
   * the amount decided, or releases. Returns the deciding shard's status. A failure after the
   * decision leaves the saga to recovery, which finishes it the same way. */
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
      decided = await this.#steps.step(hold.debitShard, decide);
    } catch (error) {
      this.#recovery.resolveLater(hold.sagaId, participants);
      throw error;
    }
    // 'exists': this very post or void was decided before (a retry): make sure the other side
    // followed, from what the deciding shard recorded.
    if (decided.status === 'exists') this.#recovery.resolveLater(hold.sagaId, participants);
    if (decided.status !== 'ok') return decided.status;
    this.#holds.delete(hold.sagaId);
    try {
      failpoint(failpointNames.sagaHoldDecided);
    } catch (error) {
      this.#recovery.resolveLater(hold.sagaId, participants);
      throw error;
    }
    // The credit shard posts the amount decided (its event carries it only when it is less), and
    // records the post or void itself, so that it reads as on one shard there too.
    const follows: HoldResolution = { id: resolution.id, metadata: resolution.metadata };
    const follow: Command =
      action === 'void'
        ? { type: 'ReleaseReservation', sagaId: hold.sagaId, reason: 'voided', follows }
        : {
            type: 'CommitReservation',
            sagaId: hold.sagaId,
            amount: resolution.amount ?? hold.transfer.amount,
            follows,
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
          const followed = this.#steps.step(shard, command);
          this.#steps.client(shard).holdReadsUntil(followed);
          return followed;
        }),
      );
    } catch {
      this.#recovery.resolveLater(sagaId, participants);
    }
  }

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
  async #expireHold(sagaId: string, hold: WatchedHold): Promise<void> {
    let decided: CommandResult;
    try {
      decided = await this.#steps.step(hold.debitShard, {
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
}
