// The history of an account: every posting to it with its counters after the posting, and its
// balance as of a sequence number or timestamp. Accounts with the history flag have their
// postings in the history index ([account ordinal, sequence] -> entry, staged by each commit; a
// saga step's second and later postings to one account at [ordinal, sequence, n]: see
// history-postings.ts); the others, and every account of a dir once written without the index,
// are answered by replaying the log (exact, but O(log) per call).

import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import { limits } from '../limits.js';
import { evolve } from '../domain/evolve.js';
import { initialState, type AccountState, type LedgerState } from '../domain/state.js';
import {
  accountFlags,
  type LedgerEvent,
  type TransferCreated,
  type TransferRecord,
} from '../domain/types.js';
import { readCounter } from '../domain/balance.js';
import { accountView } from './account-view.js';
import { decodeHistoryEntry, encodeHistoryEntry } from './history-entry.js';
import { timestampKey } from './event-record.js';
import type { AccountView, HistoryEntry, HistoryOptions, HistoryPage } from './engine-types.js';
import type { EventLog } from './event-log.js';
import type { IdIndex } from './id-index.js';
import type { ShardDatabases } from './lmdb-env.js';
import { accountPostings, asOneShard, postingsOf, type Posting } from './history-postings.js';

/** A posting and where it stands: its sequence, and its place among that event's postings to
 * the account (0 for the first; a saga step may post several legs to one account). */
interface Placed {
  readonly entry: HistoryEntry;
  readonly leg: number;
}

/** Past every leg of a sequence, in the history index's key order. */
const LEG_MAX = Number.MAX_SAFE_INTEGER;

/** Events about accounts themselves: they post nothing. */
function postsNothing(event: LedgerEvent): boolean {
  return (
    event.type === 'AccountCreated' ||
    event.type === 'AccountFrozen' ||
    event.type === 'AccountUnfrozen' ||
    event.type === 'AccountClosed'
  );
}

function hasHistory(account: { readonly flags: number } | undefined): boolean {
  return ((account?.flags ?? 0) & accountFlags.history) !== 0;
}

export class AccountHistory {
  /** False once this dir was ever written with the index off: the index then has holes, so
   * history and balance-as-of scan the log (exact) for every account. Set on open. */
  complete = true;
  /** Whether any account has the history flag: until one does, no transfer needs the two
   * account lookups of `indexes` on the hot path. Set on recovery and when such an account is
   * created; never cleared (accounts are never deleted). */
  private anyAccount = false;

  private readonly db: ShardDatabases;
  private readonly log: EventLog;
  /** Whether this engine writes the history index (the accountHistory option). */
  readonly enabled: boolean;

  constructor(db: ShardDatabases, log: EventLog, enabled: boolean) {
    this.db = db;
    this.log = log;
    this.enabled = enabled;
  }

  /** Notes the history flags of the accounts a recovered state holds. */
  noteAccounts(state: LedgerState): void {
    for (const account of state.accounts.values()) if (hasHistory(account)) this.anyAccount = true;
  }

  /** Notes the account an AccountCreated event creates, if it has the history flag. */
  noteCreated(event: LedgerEvent): void {
    if (event.type === 'AccountCreated' && hasHistory(event.account)) this.anyAccount = true;
  }

  /** Whether a TransferCreated posts to an account whose history is indexed. */
  indexes(state: LedgerState, event: TransferCreated): boolean {
    if (!this.enabled || !this.anyAccount) return false;
    return (
      hasHistory(state.accounts.get(event.transfer.debitAccountId)) ||
      hasHistory(state.accounts.get(event.transfer.creditAccountId))
    );
  }

  /** Stages the history entries of an applied event at `sequence` (the state is after it). */
  stage(state: LedgerState, event: LedgerEvent, sequence: number, index: IdIndex): void {
    this.noteCreated(event);
    if (postsNothing(event)) return;
    // Until an account has the history flag, no posting has an entry (as `indexes` above).
    if (!this.enabled || !this.anyAccount) return;
    const postings = postingsOf(event);
    for (let at = 0; at < postings.length; at += 1) {
      const posting = postings[at] as Posting;
      // Each account once: accountPostings gives all of its postings in this event.
      if (postings.findIndex((other) => other.accountId === posting.accountId) !== at) continue;
      const account = state.accounts.get(posting.accountId);
      assert(account !== undefined, 'history of a known account');
      if (!hasHistory(account)) continue;
      accountPostings(event, posting, account.counters).forEach((placed, leg) =>
        index.stageHistory(
          leg === 0 ? [account.ordinal, sequence] : [account.ordinal, sequence, leg],
          encodeHistoryEntry(event.type, placed.transferId, event.timestamp, placed.counters),
        ),
      );
    }
  }

  /** A page of the account's postings after `afterSequence`, none past `state`; with sagaSteps
   * 'transfers', listed as one shard lists them (asOneShard; `lookup` finds a transfer's record
   * in the id index). */
  page(
    state: LedgerState,
    accountId: string,
    options: HistoryOptions,
    lookup: (transferId: string) => TransferRecord | undefined,
  ): HistoryPage {
    const limit = Math.min(options.limit ?? 100, limits.pageSizeMax);
    if (!Number.isSafeInteger(limit) || limit <= 0)
      throw new LedgerError('INVALID_ARGUMENT', { limit });
    const account = state.accounts.get(accountId);
    if (account === undefined) return { entries: [], nextAfterSequence: null, nextAfterLeg: null };
    const entries: HistoryEntry[] = [];
    let last: Placed | null = null;
    const after = options.afterSequence ?? 0;
    for (const placed of this.postings(state, account, after, options.afterLeg)) {
      const entry =
        options.sagaSteps === 'transfers' ? asOneShard(placed.entry, lookup) : placed.entry;
      if (entry === null) continue;
      if (entries.length === limit) {
        // The page ends between sequences, or within one after a leg when the next entry is a
        // later leg of the same saga step.
        const { entry: lastEntry, leg } = last as Placed;
        const within = placed.entry.sequence === lastEntry.sequence;
        return {
          entries,
          nextAfterSequence: lastEntry.sequence,
          nextAfterLeg: within ? leg : null,
        };
      }
      entries.push(entry);
      last = placed;
    }
    return { entries, nextAfterSequence: null, nextAfterLeg: null };
  }

  /** The account as it was after event `at.sequence` or at `at.timestamp` (the earlier of the
   * two when both are given); undefined when it did not exist yet. */
  balanceAsOf(
    state: LedgerState,
    accountId: string,
    at: { sequence?: number; timestamp?: bigint },
  ): AccountView | undefined {
    const account = state.accounts.get(accountId);
    if (account === undefined) return undefined;
    if (at.timestamp !== undefined && account.timestamp > at.timestamp) return undefined;
    // Before the event that created it (timestamps rise with sequence numbers) it did not exist.
    if (at.sequence !== undefined && at.sequence < this.sequenceAt(account.timestamp))
      return undefined;
    let sequence = at.sequence ?? state.lastSequence;
    if (at.timestamp !== undefined) sequence = Math.min(sequence, this.sequenceAt(at.timestamp));
    const [debitsPosted, creditsPosted, debitsPending, creditsPending] = this.countersAt(
      state,
      account,
      sequence,
    );
    return {
      ...accountView(account),
      debitsPosted,
      creditsPosted,
      debitsPending,
      creditsPending,
      balance: creditsPosted - debitsPosted,
      available: creditsPosted - debitsPosted - debitsPending,
    };
  }

  /** The account's counters after its last posting at or before `sequence`. */
  private countersAt(
    state: LedgerState,
    account: AccountState,
    sequence: number,
  ): readonly [bigint, bigint, bigint, bigint] {
    let counters: readonly [bigint, bigint, bigint, bigint] = [0n, 0n, 0n, 0n];
    if (this.indexed(account)) {
      const range = this.db.history.getRange({
        // After the last leg of `sequence`: a saga step's later postings sort after its first.
        start: [account.ordinal, sequence, LEG_MAX],
        end: [account.ordinal, 0],
        reverse: true,
        limit: 1,
      });
      for (const { value } of range) counters = decodeHistoryEntry(value).counters;
      return counters;
    }
    for (const { entry } of this.scannedPostings(account.id, 0, undefined, state.lastSequence)) {
      if (entry.sequence > sequence) break;
      counters = [
        entry.debitsPosted,
        entry.creditsPosted,
        entry.debitsPending,
        entry.creditsPending,
      ];
    }
    return counters;
  }

  /** The last sequence number whose event timestamp is <= timestamp (0 if none). */
  sequenceAt(timestamp: bigint): number {
    const key = `t${timestampKey(timestamp)}`;
    for (const { key: found, value: first } of this.db.meta.getRange({
      start: key,
      end: 't',
      reverse: true,
      limit: 1,
    })) {
      if (!String(found).startsWith('t')) break;
      const record = this.log.recordAt(first);
      if (record === undefined) break;
      let sequence = first - 1;
      for (const event of record.events) {
        if (event.timestamp > timestamp) break;
        sequence += 1;
      }
      return sequence;
    }
    return 0;
  }

  private indexed(account: AccountState): boolean {
    return this.enabled && this.complete && hasHistory(account);
  }

  private postings(
    state: LedgerState,
    account: AccountState,
    afterSequence: number,
    afterLeg: number | undefined,
  ): Generator<Placed> {
    return this.indexed(account)
      ? this.indexedPostings(account, afterSequence, afterLeg)
      : this.scannedPostings(account.id, afterSequence, afterLeg, state.lastSequence);
  }

  /** The account's postings read from the history index (accounts with the history flag), after
   * `afterSequence` (after its leg `afterLeg` when given). */
  private *indexedPostings(
    account: AccountState,
    afterSequence: number,
    afterLeg: number | undefined,
  ): Generator<Placed> {
    const range = this.db.history.getRange({
      start:
        afterLeg === undefined
          ? [account.ordinal, afterSequence + 1]
          : [account.ordinal, afterSequence, afterLeg + 1],
      end: [account.ordinal + 1, 0],
    });
    for (const { key, value } of range) {
      const entry = decodeHistoryEntry(value);
      yield {
        leg: key[2] ?? 0,
        entry: {
          sequence: key[1],
          timestamp: entry.timestamp,
          transferId: entry.transferId,
          eventType: entry.eventType,
          debitsPosted: entry.counters[0],
          creditsPosted: entry.counters[1],
          debitsPending: entry.counters[2],
          creditsPending: entry.counters[3],
        },
      };
    }
  }

  /** The same postings found by replaying the log, up to event `last`, into a scratch state
   * (accounts without the history flag): exact, but O(log) per call. */
  private *scannedPostings(
    accountId: string,
    afterSequence: number,
    afterLeg: number | undefined,
    last: number,
  ): Generator<Placed> {
    const scratch = initialState();
    for (const { sequence, event } of this.log.events(0)) {
      if (sequence > last) return;
      evolve(scratch, event);
      if (sequence < afterSequence || (sequence === afterSequence && afterLeg === undefined))
        continue;
      const first = postingsOf(event).find((posting) => posting.accountId === accountId);
      if (first === undefined) continue;
      const account = scratch.accounts.get(accountId) as AccountState;
      const postings = accountPostings(event, first, account.counters);
      for (let leg = 0; leg < postings.length; leg += 1) {
        if (sequence === afterSequence && leg <= (afterLeg as number)) continue;
        const { transferId, counters } = postings[leg] as (typeof postings)[number];
        yield {
          leg,
          entry: {
            sequence,
            timestamp: event.timestamp,
            transferId,
            eventType: event.type,
            debitsPosted: readCounter(counters, 0),
            creditsPosted: readCounter(counters, 1),
            debitsPending: readCounter(counters, 2),
            creditsPending: readCounter(counters, 3),
          },
        };
      }
    }
  }
}
