// Goal: 4 shards behave exactly like 1; method: fast-check (fixed seed) runs one random command sequence on both ledgers, comparing statuses, balances, transfers, each transfer's accounts as of its own timestamp, and verify(). Half the runs use random (UUIDv4-shaped) ids. Two-phase transfers (pending, partial or full post, void) are drawn between any two accounts, so that on 4 shards most of them are cross-shard holds.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Ledger,
  type AccountInput,
  type PostPendingInput,
  type TransferInput,
  type VoidPendingInput,
} from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';

/** Fixed unless FC_SEED is set; fast-check prints it (with the shrink path) on failure. */
const seed = Number(process.env['FC_SEED'] ?? 20_260_301);
const numRuns = Number(process.env['FC_RUNS'] ?? 50);

type Flag = 'none' | 'debitsMustNotExceedCredits' | 'creditsMustNotExceedDebits';
interface AccountPlan {
  readonly flag: Flag;
  readonly currency: 'USD' | 'EUR';
  /** Moved in from an unflagged source account before the ops (0: none). */
  readonly funding: number;
}
type Op =
  | {
      readonly kind: 'transfer';
      readonly debit: number;
      readonly credit: number;
      readonly amount: number;
    }
  | { readonly kind: 'resubmit'; readonly which: number; readonly amountDelta: 0 | 1 }
  | {
      readonly kind: 'reuse';
      readonly which: number;
      readonly debit: number;
      readonly credit: number;
      readonly amount: number;
    }
  | {
      readonly kind: 'missing-account';
      readonly account: number;
      readonly side: 'debit' | 'credit';
    }
  | { readonly kind: 'pending'; readonly debit: number; readonly amount: number }
  | {
      readonly kind: 'post';
      readonly which: number;
      readonly part: number;
      readonly reuseId: boolean;
    }
  | { readonly kind: 'void'; readonly which: number; readonly reuseId: boolean };

const accountPlan: fc.Arbitrary<AccountPlan> = fc.record({
  flag: fc.constantFrom<Flag>(
    'none',
    'none',
    'debitsMustNotExceedCredits',
    'debitsMustNotExceedCredits',
    'creditsMustNotExceedDebits',
  ),
  currency: fc.constantFrom<'USD' | 'EUR'>('USD', 'USD', 'USD', 'USD', 'EUR'),
  funding: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })),
});
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('transfer' as const),
      debit: fc.nat(15),
      credit: fc.nat(15),
      amount: fc.integer({ min: 1, max: 200 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('resubmit' as const),
      which: fc.nat(40),
      amountDelta: fc.constantFrom<0 | 1>(0, 1),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reuse' as const),
      which: fc.nat(40),
      debit: fc.nat(15),
      credit: fc.nat(15),
      amount: fc.integer({ min: 1, max: 200 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('missing-account' as const),
      account: fc.nat(15),
      side: fc.constantFrom<'debit' | 'credit'>('debit', 'credit'),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('pending' as const),
      debit: fc.nat(15),
      amount: fc.integer({ min: 1, max: 200 }),
    }),
  },
  // part: 0 posts the whole amount, else that many minor units (more than pending is refused).
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('post' as const),
      which: fc.nat(40),
      part: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 250 })),
      reuseId: fc.constantFrom(false, false, false, true),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('void' as const),
      which: fc.nat(40),
      reuseId: fc.constantFrom(false, false, false, true),
    }),
  },
);

/** One call of the sequence. */
type Action =
  | { readonly kind: 'create'; readonly transfer: TransferInput }
  | { readonly kind: 'post'; readonly input: PostPendingInput }
  | { readonly kind: 'void'; readonly input: VoidPendingInput };

function idOf(action: Action): string {
  return action.kind === 'create' ? action.transfer.id : action.input.id;
}

/** Turns the plan into account inputs and one transfer input per op. A resubmission reuses an
 * earlier transfer's id with the same accounts (identical, or with amount + 1); a reuse takes an
 * earlier id for a transfer between any two accounts, which on 4 shards often live on other
 * shards than the first one's: ids are unique across the ledger, so both give what 1 shard does. */
function materialise(
  run: number,
  accounts: readonly AccountPlan[],
  ops: readonly Op[],
): { accountInputs: AccountInput[]; actions: Action[] } {
  const accountIds = accounts.map((_, index) => `r${run}-acct-${index}`);
  const source = `r${run}-source`;
  const accountInputs = accounts.map((plan, index): AccountInput => ({
    id: accountIds[index] as string,
    currency: plan.currency,
    ...(plan.flag === 'none' ? {} : { [plan.flag]: true }),
  }));
  accountInputs.push({ id: source, currency: 'USD' });
  const transfers: TransferInput[] = [];
  accounts.forEach((plan, index) => {
    if (plan.funding === 0) return;
    const creditAccountId = accountIds[index] as string;
    transfers.push({
      id: `r${run}-fund-${index}`,
      debitAccountId: source,
      creditAccountId,
      amount: BigInt(plan.funding),
      currency: 'USD',
    });
  });
  const pendingIds: string[] = [];
  const holders = [source, ...accountIds];
  const holderPairs = holders.flatMap((debit) =>
    holders.filter((credit) => credit !== debit).map((credit): [string, string] => [debit, credit]),
  );
  const actions: Action[] = transfers.map((transfer) => ({ kind: 'create', transfer }));
  ops.forEach((item, index) => {
    // Half the runs take random (UUIDv4-shaped) ids, as most services send.
    const id = run % 2 === 0 ? randomId(run, index) : `r${run}-t-${index}`;
    const account = (position: number): string =>
      accountIds[position % accountIds.length] as string;
    if (item.kind === 'pending') {
      // Any pair of accounts, the funding source among them: on 4 shards, mostly a cross-shard hold.
      const [debitAccountId, creditAccountId] = holderPairs[item.debit % holderPairs.length] as [
        string,
        string,
      ];
      pendingIds.push(id);
      actions.push({
        kind: 'create',
        transfer: {
          id,
          debitAccountId,
          creditAccountId,
          amount: BigInt(item.amount),
          currency: 'USD',
          pending: true,
        },
      });
      return;
    }
    if (item.kind === 'post' || item.kind === 'void') {
      if (pendingIds.length === 0) return;
      const pendingId = pendingIds[item.which % pendingIds.length] as string;
      // reuseId: the resolution takes an id already used, often by a transfer of other shards.
      const resolutionId =
        item.reuseId && actions.length > 0
          ? idOf(actions[item.which % actions.length] as Action)
          : id;
      if (item.kind === 'void')
        actions.push({ kind: 'void', input: { id: resolutionId, pendingId } });
      else
        actions.push({
          kind: 'post',
          input: {
            id: resolutionId,
            pendingId,
            ...(item.part === 0 ? {} : { amount: BigInt(item.part) }),
          },
        });
      return;
    }
    const created = (transfer: TransferInput): void => {
      transfers.push(transfer);
      actions.push({ kind: 'create', transfer });
    };
    if (item.kind === 'transfer') {
      created({
        id,
        debitAccountId: account(item.debit),
        creditAccountId: account(item.credit),
        amount: BigInt(item.amount),
        currency: 'USD',
      });
    } else if (item.kind === 'reuse' && transfers.length > 0) {
      const earlier = transfers[item.which % transfers.length] as TransferInput;
      created({
        id: earlier.id,
        debitAccountId: account(item.debit),
        creditAccountId: account(item.credit),
        amount: BigInt(item.amount),
        currency: 'USD',
      });
    } else if (item.kind === 'resubmit' && transfers.length > 0) {
      const earlier = transfers[item.which % transfers.length] as TransferInput;
      created({ ...earlier, amount: BigInt(earlier.amount) + BigInt(item.amountDelta) });
    } else {
      const present = account(item.kind === 'missing-account' ? item.account : 0);
      const missing = `r${run}-missing-${index}`;
      const [debitAccountId, creditAccountId] =
        item.kind === 'missing-account' && item.side === 'credit'
          ? [present, missing]
          : [missing, present];
      created({ id, debitAccountId, creditAccountId, amount: 1n, currency: 'USD' });
    }
  });
  return { accountInputs, actions };
}

const ledgers: { one: Ledger; four: Ledger } = {} as { one: Ledger; four: Ledger };
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const [oneDir, fourDir] = await Promise.all([tempDir('prop-1'), tempDir('prop-4')]);
  cleanups.push(oneDir.cleanup, fourDir.cleanup);
  // Relaxed durability: this property is about semantics, and fsync adds nothing to it.
  ledgers.one = await Ledger.open({ dir: oneDir.dir, shards: 1, durability: 'relaxed' });
  ledgers.four = await Ledger.open({ dir: fourDir.dir, shards: 4, durability: 'relaxed' });
});
afterAll(async () => {
  await Promise.all([ledgers.one?.close(), ledgers.four?.close()]);
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});

async function runOn(
  ledger: Ledger,
  accountInputs: readonly AccountInput[],
  actions: readonly Action[],
): Promise<string[]> {
  const statuses = (await ledger.createAccounts(accountInputs)).map(
    (result) => `account ${result.id}: ${result.status}`,
  );
  // One awaited call per action: a cross-shard credit is spendable once its saga committed.
  for (const action of actions) {
    const [result] =
      action.kind === 'create'
        ? [await ledger.createTransfer(action.transfer)]
        : action.kind === 'post'
          ? await ledger.postPendingTransfers([action.input])
          : await ledger.voidPendingTransfers([action.input]);
    statuses.push(`${action.kind} ${idOf(action)}: ${result?.status}`);
    // A read of every shard waits for the saga steps sent before it: the next call then comes
    // after this one on every shard, in time as in order, as it does on one shard.
    await ledger.lookupTransfers([idOf(action)]);
  }
  return statuses;
}

/** Each transfer's two accounts as of the transfer's own timestamp (for the post or void of a
 * hold across shards too: the time both of its shards hold it). */
async function balancesAtTransfers(
  ledger: Ledger,
  transfers: readonly (Awaited<ReturnType<Ledger['lookupTransfers']>>[number] | undefined)[],
): Promise<unknown[]> {
  const seen: unknown[] = [];
  for (const transfer of transfers) {
    if (transfer === undefined) continue;
    for (const accountId of [transfer.debitAccountId, transfer.creditAccountId]) {
      const account = await ledger.balanceAsOf(accountId, { timestamp: transfer.timestamp });
      seen.push([transfer.id, balances(account)]);
    }
  }
  return seen;
}

/** Every entry of each account's history: transfer id, event type and counters after it. */
async function histories(ledger: Ledger, accountIds: readonly string[]): Promise<unknown[]> {
  const seen: unknown[] = [];
  for (const accountId of accountIds) {
    const page = await ledger.accountHistory(accountId, { limit: 1_000 });
    expect(page.next).toBeNull();
    for (const entry of page.entries)
      seen.push([
        accountId,
        entry.transferId,
        entry.eventType,
        entry.debitsPosted,
        entry.creditsPosted,
        entry.debitsPending,
        entry.creditsPending,
      ]);
  }
  return seen;
}

/** A UUIDv4-shaped id drawn from (run, index) by a fixed hash: random ids, the same on both
 * ledgers and in every run of the test. */
function randomId(run: number, index: number): string {
  let state = (run * 1_000_003 + index * 7_919 + 0x9e3779b9) >>> 0;
  let hex = '';
  while (hex.length < 32) {
    state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) >>> 0;
    state = (state ^ (state >>> 12)) >>> 0;
    hex += state.toString(16).padStart(8, '0');
  }
  const variant = '89ab'[Number.parseInt(hex[16] as string, 16) % 4] as string;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function balances(account: Awaited<ReturnType<Ledger['lookupAccounts']>>[number]): unknown {
  if (account === undefined) return undefined;
  const { id, debitsPosted, creditsPosted, debitsPending, creditsPending, balance, available } =
    account;
  return { id, debitsPosted, creditsPosted, debitsPending, creditsPending, balance, available };
}

describe('Ledger on 1 shard and on 4 shards', () => {
  it('gives the same statuses, the same balances and the same transfers for any command sequence, and both verify clean', async () => {
    let run = 0;
    let crossShardSeen = 0;
    const twoPhaseSeen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(accountPlan, { minLength: 2, maxLength: 7 }),
        fc.array(op, { minLength: 1, maxLength: 40 }),
        async (accounts, ops) => {
          run += 1;
          const { accountInputs, actions } = materialise(run, accounts, ops);
          const one = await runOn(ledgers.one, accountInputs, actions);
          const four = await runOn(ledgers.four, accountInputs, actions);
          expect(four).toEqual(one);

          const ids = accountInputs.map((input) => input.id);
          const [oneAccounts, fourAccounts] = await Promise.all([
            ledgers.one.lookupAccounts(ids),
            ledgers.four.lookupAccounts(ids),
          ]);
          expect(fourAccounts.map(balances)).toEqual(oneAccounts.map(balances));
          const transferIds = [...new Set(actions.map(idOf))];
          const [oneTransfers, fourTransfers] = await Promise.all([
            ledgers.one.lookupTransfers(transferIds),
            ledgers.four.lookupTransfers(transferIds),
          ]);
          const shape = (transfer: (typeof oneTransfers)[number]): unknown =>
            transfer === undefined
              ? undefined
              : [
                  transfer.id,
                  transfer.kind,
                  transfer.debitAccountId,
                  transfer.creditAccountId,
                  transfer.amount,
                  transfer.pending,
                  transfer.pendingId,
                  transfer.state,
                  transfer.postedAmount,
                ];
          expect(fourTransfers.map(shape)).toEqual(oneTransfers.map(shape));
          // Where accounts live does not show in their balances as of a transfer's own time.
          expect(await balancesAtTransfers(ledgers.four, fourTransfers)).toEqual(
            await balancesAtTransfers(ledgers.one, oneTransfers),
          );
          // Nor in their history: the same entries, under the same transfer ids.
          expect(await histories(ledgers.four, ids)).toEqual(await histories(ledgers.one, ids));
          for (const transfer of fourTransfers) {
            if (transfer === undefined || (!transfer.pending && transfer.kind === 'transfer'))
              continue;
            if (transfer.crossShard && transfer.pending)
              twoPhaseSeen.set('cross-shard hold', (twoPhaseSeen.get('cross-shard hold') ?? 0) + 1);
            const key = transfer.kind === 'transfer' ? `pending ${transfer.state}` : transfer.kind;
            twoPhaseSeen.set(key, (twoPhaseSeen.get(key) ?? 0) + 1);
            if (
              transfer.kind === 'transfer' &&
              transfer.state === 'posted' &&
              transfer.postedAmount !== transfer.amount
            )
              twoPhaseSeen.set('partial', (twoPhaseSeen.get('partial') ?? 0) + 1);
          }
          crossShardSeen += fourTransfers.filter(
            (transfer) => transfer?.crossShard === true && transfer.state === 'posted',
          ).length;

          const [oneReport, fourReport] = await Promise.all([
            ledgers.one.verify(),
            ledgers.four.verify(),
          ]);
          expect(oneReport.violations).toEqual([]);
          expect(fourReport.violations).toEqual([]);
          expect(oneReport.ok && fourReport.ok).toBe(true);
        },
      ),
      { seed, numRuns, interruptAfterTimeLimit: 100_000, markInterruptAsFailure: true },
    );
    // The property is only as good as its mix: cross-shard sagas must have run and committed.
    expect(crossShardSeen).toBeGreaterThan(numRuns);
    if (process.env['PROP_DEBUG'] !== undefined) console.log(JSON.stringify([...twoPhaseSeen]));
    // And two-phase transfers must have been held, posted (in part too) and voided.
    for (const key of [
      'pending pending',
      'pending posted',
      'partial',
      'pending voided',
      'post',
      'void',
      'cross-shard hold',
    ])
      expect(twoPhaseSeen.get(key) ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
