// The command stream of one seed: accounts placed on shards, and calls of transfers between them.
// Built so that every transfer's answer does not depend on the order in which concurrent calls
// reach the shards: the accounts that refuse are never given what they would need to accept
// (a wallet that may not be overdrawn is never credited, an account whose credits may not exceed
// its debits is never debited), and the others have no limit. So a fault-free run of the same
// stream, one call at a time, is an exact oracle for statuses and balances.
import { accountFlags, type AccountSpec, type TransferSpec } from '@shardledger/ledger-core';

/** What an account is there for in the stream. */
export type AccountRole = 'open' | 'empty-wallet' | 'credit-capped' | 'missing';

export interface SimAccount {
  readonly id: string;
  readonly shard: number;
  readonly currency: string;
  readonly role: AccountRole;
}

/** `call`: a createTransfers call (same-shard transfers and sagas, answered after step 1);
 * `group`: a createAtomicGroup call spanning shards (one saga, answered after step 2). */
export interface SimOp {
  readonly kind: 'call' | 'group';
  readonly transfers: readonly TransferSpec[];
}

export interface SimWorkload {
  readonly shardCount: number;
  readonly accounts: readonly SimAccount[];
  readonly ops: readonly SimOp[];
  readonly snapshotIntervalEvents: number;
  /** Calls in flight at once in the faulty run. */
  readonly concurrency: number;
  shardOf(accountId: string): number;
}

const currencies = ['EUR', 'USD'] as const;

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

export function accountCommandsOf(workload: SimWorkload, shard: number): AccountSpec[] {
  return workload.accounts
    .filter((account) => account.shard === shard && account.role !== 'missing')
    .map((account) => ({
      id: account.id,
      currency: account.currency,
      scale: 2,
      flags:
        account.role === 'empty-wallet'
          ? accountFlags.debitsMustNotExceedCredits
          : account.role === 'credit-capped'
            ? accountFlags.creditsMustNotExceedDebits
            : 0,
      metadata: null,
    }));
}

export function buildWorkload(random: () => number): SimWorkload {
  const shardCount = 2 + Math.floor(random() * 2);
  const accounts: SimAccount[] = [];
  for (let shard = 0; shard < shardCount; shard += 1) {
    for (const currency of currencies) {
      for (let index = 0; index < 2; index += 1)
        accounts.push({ id: `a${shard}${currency}${index}`, shard, currency, role: 'open' });
      accounts.push({ id: `w${shard}${currency}`, shard, currency, role: 'empty-wallet' });
      accounts.push({ id: `c${shard}${currency}`, shard, currency, role: 'credit-capped' });
      accounts.push({ id: `m${shard}${currency}`, shard, currency, role: 'missing' });
    }
  }
  const shardById = new Map(accounts.map((account) => [account.id, account.shard]));
  const opCount = 6 + Math.floor(random() * 10);
  const ops: SimOp[] = [];
  let transferCount = 0;
  const transfer = (crossShard: boolean): TransferSpec => {
    transferCount += 1;
    const currency = pick(random, currencies);
    const roll = random();
    // Mostly payments that go through; some that a shard refuses, on either side.
    const debitRole: AccountRole = roll < 0.1 ? 'empty-wallet' : roll < 0.15 ? 'missing' : 'open';
    const creditRole: AccountRole =
      roll >= 0.15 && roll < 0.22
        ? 'credit-capped'
        : roll >= 0.22 && roll < 0.26
          ? 'missing'
          : 'open';
    const debit = pick(
      random,
      accounts.filter((account) => account.currency === currency && account.role === debitRole),
    );
    const credits = accounts.filter(
      (account) =>
        account.currency === currency &&
        account.role === creditRole &&
        account.id !== debit.id &&
        (account.shard !== debit.shard) === crossShard,
    );
    const credit = pick(
      random,
      credits.length > 0
        ? credits
        : accounts.filter(
            (account) =>
              account.currency === currency &&
              account.role === 'open' &&
              account.shard !== debit.shard,
          ),
    );
    // Time-ordered ids mostly (the engines' fast path); now and then one out of order.
    const id =
      random() < 0.1
        ? `r${Math.floor(random() * 1e9).toString(36)}`
        : `t${transferCount.toString().padStart(5, '0')}`;
    const amount = BigInt(1 + Math.floor(random() * 1000));
    return {
      id,
      debitAccountId: debit.id,
      creditAccountId: credit.id,
      amount,
      currency,
      pending: false,
      timeoutMs: 0,
      metadata: null,
    };
  };
  for (let index = 0; index < opCount; index += 1) {
    const roll = random();
    if (roll < 0.15 && ops.length > 0) {
      // The client sends an earlier call again, as after a timeout: every answer must be the same
      // one (`exists` for what was applied).
      ops.push(pick(random, ops));
    } else if (roll < 0.3) {
      ops.push({ kind: 'group', transfers: [transfer(true), transfer(random() < 0.5)] });
    } else {
      const size = 1 + Math.floor(random() * 4);
      ops.push({
        kind: 'call',
        transfers: Array.from({ length: size }, () => transfer(random() < 0.7)),
      });
    }
  }
  return {
    shardCount,
    accounts,
    ops: dedupeIds(ops),
    snapshotIntervalEvents: 4 + Math.floor(random() * 40),
    concurrency: 1 + Math.floor(random() * 4),
    shardOf: (accountId) => {
      const shard = shardById.get(accountId);
      if (shard === undefined) throw new Error(`no shard for account ${accountId}`);
      return shard;
    },
  };
}

/** Random ids may repeat by chance, and a call may not name one id twice: such a repeat gets a
 * fresh id (a repeated call keeps its ids: that is the point of it). */
function dedupeIds(ops: readonly SimOp[]): SimOp[] {
  const seen = new Map<string, TransferSpec>();
  return ops.map((op) => {
    const transfers = op.transfers.map((transfer, index) => {
      const earlier = seen.get(transfer.id);
      if (earlier === undefined || earlier === transfer) {
        seen.set(transfer.id, transfer);
        return transfer;
      }
      const renamed = { ...transfer, id: `${transfer.id}x${index}` };
      seen.set(renamed.id, renamed);
      return renamed;
    });
    return transfers.every((transfer, index) => transfer === op.transfers[index])
      ? op
      : { ...op, transfers };
  });
}
