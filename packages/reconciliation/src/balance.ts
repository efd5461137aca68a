// Balance reconciliation: per currency, the clearing account's movement over the run's window
// (its balance as of the cut-off less its balance as of the start) against the file's total.

import type { Ledger } from '@shardledger/shard-router';
import { accountIdFor } from './accounts.js';
import type { ClearingSide } from './ledger-source.js';
import type { AmountBasis } from './match-options.js';
import type { BalanceCheck, CurrencyTotals } from './run-types.js';

async function balanceAt(ledger: Ledger, accountId: string, ms: number | null): Promise<bigint> {
  if (ms === null) return 0n;
  const account = await ledger.balanceAsOf(accountId, { timestamp: BigInt(ms) * 1_000_000n });
  return account?.balance ?? 0n;
}

export async function checkBalances(options: {
  ledger: Ledger;
  totals: readonly CurrencyTotals[];
  profile: string;
  clearingAccountTemplate: string;
  clearingSide: ClearingSide;
  amountBasis: AmountBasis;
  fromMs: number | null;
  cutoffMs: number | null;
}): Promise<BalanceCheck[]> {
  const checks: BalanceCheck[] = [];
  for (const total of options.totals) {
    const clearingAccountId = accountIdFor(
      options.clearingAccountTemplate,
      options.profile,
      total.currency,
    );
    const closing = await balanceAt(options.ledger, clearingAccountId, options.cutoffMs);
    const opening = await balanceAt(options.ledger, clearingAccountId, options.fromMs);
    // balance is credits - debits: a debit-side clearing account grows as its balance falls.
    const change = closing - opening;
    const ledgerMovement = options.clearingSide === 'debit' ? -change : change;
    const settlementTotal = options.amountBasis === 'gross' ? total.gross : total.net;
    checks.push({
      currency: total.currency,
      clearingAccountId,
      ledgerMovement,
      settlementTotal,
      drift: settlementTotal - ledgerMovement,
    });
  }
  return checks;
}
