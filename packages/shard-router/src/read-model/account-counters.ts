// The accounts' four counters as the projector moves them, and the currency totals that sum them.
// Counters move exactly as in ledger-core's evolve(). They are kept in memory across batches and
// written once per transaction (flush), not once per event: a batch touches the same accounts many
// times.

import { type AccountSpec } from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import {
  metadataText,
  type EventPosition,
  type ProjectorStatements,
} from './projector-statements.js';

// Counter indices, as in ledger-core's balance.ts.
export const DEBITS_POSTED = 0;
export const CREDITS_POSTED = 1;
export const DEBITS_PENDING = 2;
export const CREDITS_PENDING = 3;

type Counters = [bigint, bigint, bigint, bigint];

/** One account's row as the projector holds it: the counters change, the rest is as created. */
export interface AccountCache {
  readonly id: string;
  readonly currency: string;
  readonly scale: number;
  counters: Counters;
  /** Changed by the batch being applied: written by flush. */
  dirty: boolean;
  /** Created by the batch being applied: inserted rather than updated. */
  fresh: boolean;
  /** accountFlags, the status flags (frozen, closed) included: changed by status events. */
  flags: number;
  readonly metadata: string | null;
  readonly timestamp: bigint;
  readonly shard: number;
  readonly sequence: number;
}

/** Accounts whose committed counters the projector keeps in memory between batches; past this
 * many the cache is dropped after a batch and refilled from the file as events name them. */
const accountCacheSizeMax = 200_000;

/** The counters of the accounts that events name. It must be the file's only writer of accounts:
 * what it caches is what it committed. */
export class AccountCounters {
  readonly #statements: ProjectorStatements;
  /** Counters as committed, plus the changes of the batch being applied (the dirty ones). */
  readonly #accounts = new Map<string, AccountCache>();
  /** Accounts changed by the batch being applied, written once by flush. */
  readonly #dirty: AccountCache[] = [];
  readonly #currencyDeltas = new Map<string, Counters>();

  constructor(statements: ProjectorStatements) {
    this.#statements = statements;
  }

  /** An account created by the event at `at`, with its counters at zero. */
  create(spec: AccountSpec, at: EventPosition): void {
    assert(
      !this.#accounts.has(spec.id) && this.#statements.account.get(spec.id) === undefined,
      'account projected twice',
    );
    const account: AccountCache = {
      id: spec.id,
      currency: spec.currency,
      scale: spec.scale,
      counters: [0n, 0n, 0n, 0n],
      dirty: true,
      fresh: true,
      flags: spec.flags,
      metadata: metadataText(spec.metadata),
      timestamp: at.timestamp,
      shard: at.shard,
      sequence: at.sequence,
    };
    this.#accounts.set(spec.id, account);
    this.#dirty.push(account);
    this.#currencyDelta(spec.currency);
  }

  /** Adds `amount` (negative: takes it away) to one counter of the account and of its currency. */
  move(accountId: string, index: number, amount: bigint): AccountCache {
    const account = this.#account(accountId);
    const next = (account.counters[index] as bigint) + amount;
    assert(next >= 0n, `counter of ${accountId} would go negative`);
    account.counters[index] = next;
    if (!account.dirty) {
      account.dirty = true;
      this.#dirty.push(account);
    }
    const delta = this.#currencyDelta(account.currency);
    delta[index] = (delta[index] as bigint) + amount;
    return account;
  }

  /** Sets (`on`) or clears the status flags `mask` of an account (freeze, unfreeze, close). */
  setStatus(accountId: string, mask: number, on: boolean): void {
    const account = this.#account(accountId);
    account.flags = on ? account.flags | mask : account.flags & ~mask;
    if (!account.dirty) {
      account.dirty = true;
      this.#dirty.push(account);
    }
  }

  /** Writes the batch's account counters and currency totals (once per batch, not per event). */
  flush(): void {
    this.#flushAccounts();
    this.#flushTotals();
  }

  /** Ends a batch once its transaction committed or rolled back. */
  settle(committed: boolean): void {
    if (committed) {
      for (const account of this.#dirty) {
        account.dirty = false;
        account.fresh = false;
      }
    }
    // On a rollback the cache holds uncommitted counters: drop it (and when it grew too big).
    if (!committed || this.#accounts.size > accountCacheSizeMax) this.#accounts.clear();
    this.#dirty.length = 0;
    this.#currencyDeltas.clear();
  }

  #account(id: string): AccountCache {
    const cached = this.#accounts.get(id);
    if (cached !== undefined) return cached;
    const row = this.#statements.account.get(id) as
      Record<string, bigint | string | null> | undefined;
    assert(row !== undefined, `event names an account not projected: ${id}`);
    const account: AccountCache = {
      id,
      currency: row['currency'] as string,
      scale: Number(row['scale']),
      counters: [
        BigInt(row['debits_posted'] as string),
        BigInt(row['credits_posted'] as string),
        BigInt(row['debits_pending'] as string),
        BigInt(row['credits_pending'] as string),
      ],
      dirty: false,
      fresh: false,
      flags: Number(row['flags']),
      metadata: row['metadata'] as string | null,
      timestamp: row['timestamp'] as bigint,
      shard: Number(row['shard']),
      sequence: Number(row['sequence']),
    };
    this.#accounts.set(id, account);
    return account;
  }

  #currencyDelta(currency: string): Counters {
    let delta = this.#currencyDeltas.get(currency);
    if (delta === undefined) this.#currencyDeltas.set(currency, (delta = [0n, 0n, 0n, 0n]));
    return delta;
  }

  #flushAccounts(): void {
    for (const account of this.#dirty) {
      const [dp, cp, dq, cq] = account.counters;
      const texts = [
        dp.toString(),
        cp.toString(),
        dq.toString(),
        cq.toString(),
        (cp - dp).toString(),
      ] as const;
      if (account.fresh) {
        this.#statements.insertAccount.run(
          account.id,
          account.currency,
          account.scale,
          account.flags,
          account.metadata,
          account.timestamp,
          account.shard,
          account.sequence,
          ...texts,
        );
      } else {
        this.#statements.updateAccount.run(...texts, account.flags, account.id);
      }
    }
  }

  #flushTotals(): void {
    for (const [currency, delta] of this.#currencyDeltas) {
      const row = this.#statements.totals.get(currency) as Record<string, string> | undefined;
      const base =
        row === undefined
          ? [0n, 0n, 0n, 0n]
          : [
              row['debits_posted'],
              row['credits_posted'],
              row['debits_pending'],
              row['credits_pending'],
            ].map((text) => BigInt(text as string));
      const sums = delta.map((value, index) => ((base[index] as bigint) + value).toString());
      this.#statements.upsertTotals.run(currency, ...sums);
    }
  }
}
