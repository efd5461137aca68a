// Goal: 4 shards behave exactly like 1; method: fast-check (fixed seed) runs one random command sequence on both ledgers, comparing statuses, balances and verify().
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, type AccountInput, type TransferInput } from '../src/index.js';
import { tempDir } from './ledger-fixtures.js';

/** Fixed unless FC_SEED is set; fast-check prints it (with the shrink path) on failure. */
const seed = Number(process.env['FC_SEED'] ?? 20_260_301);
const numRuns = Number(process.env['FC_RUNS'] ?? 30);

type Flag = 'none' | 'debitsMustNotExceedCredits' | 'creditsMustNotExceedDebits';
interface AccountPlan {
  readonly flag: Flag;
  readonly currency: 'USD' | 'EUR';
  /** Moved in from an unflagged source account before the ops (0: none). */
  readonly funding: number;
}
type Op =
  | { readonly kind: 'transfer'; readonly debit: number; readonly credit: number; readonly amount: number }
  | { readonly kind: 'resubmit'; readonly which: number; readonly amountDelta: 0 | 1 }
  | { readonly kind: 'reuse'; readonly which: number; readonly debit: number; readonly credit: number; readonly amount: number }
  | { readonly kind: 'missing-account'; readonly account: number; readonly side: 'debit' | 'credit' };

const accountPlan: fc.Arbitrary<AccountPlan> = fc.record({
  flag: fc.constantFrom<Flag>('none', 'none', 'debitsMustNotExceedCredits', 'debitsMustNotExceedCredits', 'creditsMustNotExceedDebits'),
  currency: fc.constantFrom<'USD' | 'EUR'>('USD', 'USD', 'USD', 'USD', 'EUR'),
  funding: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })),
});
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('transfer' as const), debit: fc.nat(15), credit: fc.nat(15), amount: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resubmit' as const), which: fc.nat(40), amountDelta: fc.constantFrom<0 | 1>(0, 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reuse' as const), which: fc.nat(40), debit: fc.nat(15), credit: fc.nat(15), amount: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('missing-account' as const), account: fc.nat(15), side: fc.constantFrom<'debit' | 'credit'>('debit', 'credit') }) },
);

/** Turns the plan into account inputs and one transfer input per op. A resubmission reuses an
 * earlier transfer's id with the same accounts (identical, or with amount + 1); a reuse takes an
 * earlier id for a transfer between any two accounts, which on 4 shards often live on other
 * shards than the first one's: ids are unique across the ledger, so both give what 1 shard does. */
function materialise(run: number, accounts: readonly AccountPlan[], ops: readonly Op[]): { accountInputs: AccountInput[]; transfers: TransferInput[] } {
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
    transfers.push({ id: `r${run}-fund-${index}`, debitAccountId: source, creditAccountId, amount: BigInt(plan.funding), currency: 'USD' });
  });
  ops.forEach((item, index) => {
    const id = `r${run}-t-${index}`;
    const account = (position: number): string => accountIds[position % accountIds.length] as string;
    if (item.kind === 'transfer') {
      transfers.push({ id, debitAccountId: account(item.debit), creditAccountId: account(item.credit), amount: BigInt(item.amount), currency: 'USD' });
    } else if (item.kind === 'reuse' && transfers.length > 0) {
      const earlier = transfers[item.which % transfers.length] as TransferInput;
      transfers.push({ id: earlier.id, debitAccountId: account(item.debit), creditAccountId: account(item.credit), amount: BigInt(item.amount), currency: 'USD' });
    } else if (item.kind === 'resubmit' && transfers.length > 0) {
      const earlier = transfers[item.which % transfers.length] as TransferInput;
      transfers.push({ ...earlier, amount: BigInt(earlier.amount) + BigInt(item.amountDelta) });
    } else {
      const present = account(item.kind === 'missing-account' ? item.account : 0);
      const missing = `r${run}-missing-${index}`;
      const [debitAccountId, creditAccountId] = item.kind === 'missing-account' && item.side === 'credit' ? [present, missing] : [missing, present];
      transfers.push({ id, debitAccountId, creditAccountId, amount: 1n, currency: 'USD' });
    }
  });
  return { accountInputs, transfers };
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

async function runOn(ledger: Ledger, accountInputs: readonly AccountInput[], transfers: readonly TransferInput[]): Promise<string[]> {
  const statuses = (await ledger.createAccounts(accountInputs)).map((result) => `account ${result.id}: ${result.status}`);
  // One awaited call per transfer: a cross-shard credit is spendable once its saga committed.
  for (const transfer of transfers) statuses.push(`${transfer.id}: ${(await ledger.createTransfer(transfer)).status}`);
  return statuses;
}

function balances(account: Awaited<ReturnType<Ledger['lookupAccounts']>>[number]): unknown {
  if (account === undefined) return undefined;
  const { id, debitsPosted, creditsPosted, debitsPending, creditsPending, balance, available } = account;
  return { id, debitsPosted, creditsPosted, debitsPending, creditsPending, balance, available };
}

describe('Ledger on 1 shard and on 4 shards', () => {
  it('gives the same statuses, the same balances and the same transfers for any command sequence, and both verify clean', async () => {
    let run = 0;
    let crossShardSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(accountPlan, { minLength: 2, maxLength: 7 }), fc.array(op, { minLength: 1, maxLength: 40 }), async (accounts, ops) => {
        run += 1;
        const { accountInputs, transfers } = materialise(run, accounts, ops);
        const one = await runOn(ledgers.one, accountInputs, transfers);
        const four = await runOn(ledgers.four, accountInputs, transfers);
        expect(four).toEqual(one);

        const ids = accountInputs.map((input) => input.id);
        const [oneAccounts, fourAccounts] = await Promise.all([ledgers.one.lookupAccounts(ids), ledgers.four.lookupAccounts(ids)]);
        expect(fourAccounts.map(balances)).toEqual(oneAccounts.map(balances));
        const transferIds = [...new Set(transfers.map((transfer) => transfer.id))];
        const [oneTransfers, fourTransfers] = await Promise.all([ledgers.one.lookupTransfers(transferIds), ledgers.four.lookupTransfers(transferIds)]);
        const shape = (transfer: (typeof oneTransfers)[number]): unknown =>
          transfer === undefined ? undefined : [transfer.id, transfer.debitAccountId, transfer.creditAccountId, transfer.amount, transfer.state];
        expect(fourTransfers.map(shape)).toEqual(oneTransfers.map(shape));
        crossShardSeen += fourTransfers.filter((transfer) => transfer?.crossShard === true && transfer.state === 'posted').length;

        const [oneReport, fourReport] = await Promise.all([ledgers.one.verify(), ledgers.four.verify()]);
        expect(oneReport.violations).toEqual([]);
        expect(fourReport.violations).toEqual([]);
        expect(oneReport.ok && fourReport.ok).toBe(true);
      }),
      { seed, numRuns, interruptAfterTimeLimit: 100_000, markInterruptAsFailure: true },
    );
    // The property is only as good as its mix: cross-shard sagas must have run and committed.
    expect(crossShardSeen).toBeGreaterThan(numRuns);
  }, 120_000);
});
