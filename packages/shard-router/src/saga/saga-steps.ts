// The messages of a saga: each step (ReserveFunds, CommitReservation, ReleaseReservation) sent to
// one shard, with a timeout, and re-sent while the shard restarts. Every step is idempotent by
// saga id, so a re-sent step changes nothing already done. The single saga and the sagas of a
// createTransfers call send theirs through the same functions here.

import {
  LedgerError,
  isLedgerError,
  type Command,
  type CommandResult,
} from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import type { ShardBuckets } from '../shard-buckets.js';
import type { ShardClient } from '../shard/shard-client.js';

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

/** Attempts of one step while its shard restarts (SHARD_UNAVAILABLE), before giving up. */
export const stepAttemptsMax = 20;
const stepRetryDelayMs = 25;

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

export function isRetryable(error: unknown): boolean {
  return isLedgerError(error, 'SHARD_UNAVAILABLE') || isLedgerError(error, 'QUEUE_FULL');
}

export class SagaSteps {
  readonly shards: SagaShards;
  /** Commit and release steps sent after their callers were answered (sendLater). */
  readonly sending = new Set<Promise<void>>();

  constructor(shards: SagaShards) {
    this.shards = shards;
  }

  client(shard: number): SagaShard {
    const client = this.shards.clients[shard];
    assert(client !== undefined, 'participant shard exists');
    return client;
  }

  /** Waits before retry `attempt` (1 for the first), longer as attempts go on. */
  backOff(attempt: number): Promise<void> {
    return (this.shards.sleep ?? sleep)(stepRetryDelayMs * Math.min(attempt, 8));
  }

  /** Sends one step to one shard, retrying while the shard restarts. */
  async step(shard: number, command: Command): Promise<CommandResult> {
    const [result] = await this.steps(shard, [command]);
    assert(result !== undefined, 'one result per command');
    return result;
  }

  /** Sends steps of several sagas to one shard in one call, retrying while the shard restarts
   * (every step is idempotent by saga id, so a re-sent batch changes nothing already done). */
  async steps(shard: number, commands: readonly Command[]): Promise<CommandResult[]> {
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
        await this.backOff(attempt);
      }
    }
  }

  /** A ReserveFunds answered `exists` means either "these transfers are already posted here" or
   * "this very saga is reserved here": the latter happens when the worker died after committing
   * the reservation but before replying, and step() re-sent it. Only the shard's saga record
   * tells them apart; our own reservation must be committed or released like an `ok` one, or it
   * stays open with the money half-moved. Returns the answer with that one turned into `ok`. */
  async claim(shard: number, sagaId: string, result: CommandResult): Promise<CommandResult> {
    if (result.status !== 'exists') return result;
    const outcome = await this.client(shard).sagaOutcome(sagaId);
    return outcome === 'reserved' || outcome === 'committed' ? { ...result, status: 'ok' } : result;
  }

  /** Sends the finishing steps, one message per shard, and waits for them. */
  async sendNow(finishing: ShardBuckets<Command>): Promise<void> {
    await finishing.scatter([], (shard, commands) => this.steps(shard, commands));
  }

  /** Sends the finishing steps, one message per shard, without waiting: their outcome is decided
   * and durable. Each shard's reads wait for its message (ShardClient.holdReadsUntil), so a
   * caller still reads its own writes; settle() waits for them. A message that fails for good
   * calls `onFailure`, which leaves its sagas to be settled in the background. */
  sendLater(finishing: ShardBuckets<Command>, onFailure: () => void): void {
    const sent = finishing.scatter([], (shard, commands) => {
      const answered = this.steps(shard, commands);
      this.client(shard).holdReadsUntil(answered);
      const tracked: Promise<void> = answered.then(() => undefined, onFailure);
      this.sending.add(tracked);
      void tracked.finally(() => this.sending.delete(tracked));
      return answered;
    });
    sent.catch(() => undefined);
  }
}
