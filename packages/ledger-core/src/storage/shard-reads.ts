// The read path of a shard engine (ShardEngine extends it): lookups, sagas, history, balance as
// of, and the log's events and records. A read takes its answer from memory at once, then waits
// until everything applied before it is durable (`settled`), so no reader sees a write that a
// crash could still take back.

import type { LedgerState, ReservationState } from '../domain/state.js';
import type { DecideContext, SagaOutcome, TransferRecord } from '../domain/types.js';
import { accountView } from './account-view.js';
import type { AccountHistory } from './account-history.js';
import type { AccountView, HistoryOptions, HistoryPage, SequencedEvent } from './engine-types.js';
import type { EventLog } from './event-log.js';

/** Set by the engine (ShardEngine's constructor and open). */
export abstract class ShardReads {
  /** @internal The shard's state in memory: set by the engine on open, then changed by evolve. */
  protected state!: LedgerState;
  /** @internal The lookups decide makes (the id index's), and the timestamp of the command
   * decided. */
  protected context!: DecideContext & { timestamp: bigint };
  /** @internal */
  protected history!: AccountHistory;
  /** @internal */
  protected log!: EventLog;
  /** @internal Resolves when every batch applied so far is durable. */
  protected durable: Promise<void> = Promise.resolve();

  /** @internal Throws once the engine is closed or failed. */
  protected abstract ensureOpen(): void;

  /** @internal Resolves once everything applied so far is durable. */
  protected async settled(): Promise<void> {
    this.ensureOpen();
    await this.durable;
  }

  async lookupAccounts(ids: readonly string[]): Promise<(AccountView | undefined)[]> {
    this.ensureOpen();
    const found = ids.map((id) => {
      const account = this.state.accounts.get(id);
      return account === undefined ? undefined : accountView(account);
    });
    await this.settled();
    return found;
  }

  async lookupTransfers(ids: readonly string[]): Promise<(TransferRecord | undefined)[]> {
    this.ensureOpen();
    const transfers = this.context.transfers;
    const found = ids.map((id) => {
      const record = transfers.get(id);
      return record === undefined || record.state === 'released' ? undefined : record;
    });
    await this.settled();
    return found;
  }

  /** Which of `ids` name a pending transfer of this shard that is still open (neither posted,
   * voided nor expired): 1 at its index, else 0. A hold between shards is a reservation on each
   * of them, not a pending transfer of either: 0 here. */
  async openHolds(ids: readonly string[]): Promise<Uint8Array> {
    this.ensureOpen();
    const open = new Uint8Array(ids.length);
    for (let at = 0; at < ids.length; at += 1)
      if (this.state.pending.has(ids[at] as string)) open[at] = 1;
    await this.settled();
    return open;
  }

  async sagaOutcome(sagaId: string): Promise<SagaOutcome | undefined> {
    this.ensureOpen();
    const outcome = this.state.reservations.has(sagaId)
      ? 'reserved'
      : this.context.sagas.get(sagaId);
    await this.settled();
    return outcome;
  }

  async reservation(sagaId: string): Promise<ReservationState | undefined> {
    this.ensureOpen();
    const open = this.state.reservations.get(sagaId);
    await this.settled();
    return open;
  }

  async openReservations(): Promise<ReservationState[]> {
    this.ensureOpen();
    const open = [...this.state.reservations.values()];
    await this.settled();
    return open;
  }

  async accountHistory(accountId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    await this.settled();
    const lookup = (id: string): TransferRecord | undefined => this.context.transfers.get(id);
    return this.history.page(this.state, accountId, options, lookup);
  }

  async balanceAsOf(
    accountId: string,
    at: { sequence?: number; timestamp?: bigint },
  ): Promise<AccountView | undefined> {
    await this.settled();
    return this.history.balanceAsOf(this.state, accountId, at);
  }

  async readEvents(afterSequence: number, limit: number): Promise<SequencedEvent[]> {
    // Only what is durable: everything applied before the call is durable once settled.
    const durableThrough = this.state.lastSequence;
    await this.settled();
    return this.log.readEvents(afterSequence, limit, durableThrough);
  }

  /** The last sequence whose event's timestamp is at or before `timestamp` (0 if none). */
  async sequenceAt(timestamp: bigint): Promise<number> {
    await this.settled();
    return this.history.sequenceAt(timestamp);
  }

  /** The digest (sha256) of the log record that ends at `sequence`, once durable, or null when
   * no record ends there: what a snapshot at that sequence is bound to (snapshot-store.ts). */
  async logDigestAt(sequence: number): Promise<Uint8Array | null> {
    await this.settled();
    return this.log.digestAt(sequence) ?? null;
  }

  async readRecords(afterSequence: number, limitEvents: number): Promise<Uint8Array[]> {
    const durableThrough = this.state.lastSequence;
    await this.settled();
    return this.log.readRecords(afterSequence, limitEvents, durableThrough);
  }
}
