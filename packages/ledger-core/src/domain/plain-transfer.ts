// decide + evolve, specialised for the transfer almost every payment is: posted at once (not
// pending), no metadata, an amount below 2^53, between two accounts whose counters are still
// exact numbers. For such a transfer with an id known to be new, decideCreateTransfer either
// accepts (one TransferCreated) or rejects; this function applies exactly what evolve would for
// the acceptance, without the command, decision and event objects, and declines (returns false,
// changing nothing) wherever decide might reject or any other rule is involved. The caller then
// runs the general path, which gives the exact result. The storage engine's plain-transfer lane
// (ShardEngine.submitEncoded) is its user; plain-lane.prop.test.ts holds the two paths side by
// side. The caller advances lastSequence and lastTimestamp (it batches the bigint work).

import { CREDITS_PENDING, CREDITS_POSTED, DEBITS_PENDING, DEBITS_POSTED, addCounter, type Counters } from './balance.js';
import { totalsFor, type LedgerState } from './state.js';
import { accountFlags } from './types.js';

const SAFE = Number.MAX_SAFE_INTEGER;

/** addCounter for an exact number amount; the bigint only when the counter has to widen. */
function addSmall(counters: Counters, index: 0 | 1, amount: number): void {
  if (counters.wide === null) {
    const sum = (counters.small[index] as number) + amount;
    if (sum <= SAFE) {
      counters.small[index] = sum;
      return;
    }
  }
  addCounter(counters, index, BigInt(amount), amount);
}

/**
 * Applies a plain posted transfer of `amount` (a safe integer > 0) from `debitAccountId` to
 * `creditAccountId` in `currency`, whose id the caller knows to be new. Returns false, changing
 * nothing, unless decide would accept it and no account involved has a flag in `declineFlags`
 * (the engine passes the history flag: those postings are indexed by the general path).
 */
export function applyPlainTransfer(
  state: LedgerState,
  debitAccountId: string,
  creditAccountId: string,
  currency: string,
  amount: number,
  declineFlags: number,
): boolean {
  const debit = state.accounts.get(debitAccountId);
  const credit = state.accounts.get(creditAccountId);
  if (debit === undefined || credit === undefined || debit === credit) return false;
  if (debit.currency !== currency || credit.currency !== currency) return false;
  if (((debit.flags | credit.flags) & declineFlags) !== 0) return false;
  const debitCounters = debit.counters;
  const creditCounters = credit.counters;
  if (debitCounters.wide !== null || creditCounters.wide !== null) return false;
  const debitSmall = debitCounters.small;
  const creditSmall = creditCounters.small;
  // checkDebitSide / checkCreditSide on exact numbers: sums past 2^53 go the general way.
  const debitsAfter = (debitSmall[DEBITS_POSTED] as number) + (debitSmall[DEBITS_PENDING] as number) + amount;
  const creditsAfter = (creditSmall[CREDITS_POSTED] as number) + (creditSmall[CREDITS_PENDING] as number) + amount;
  if (debitsAfter > SAFE || creditsAfter > SAFE) return false;
  if ((debit.flags & accountFlags.debitsMustNotExceedCredits) !== 0 && debitsAfter > (debitSmall[CREDITS_POSTED] as number)) return false;
  if ((credit.flags & accountFlags.creditsMustNotExceedDebits) !== 0 && creditsAfter > (creditSmall[DEBITS_POSTED] as number)) return false;
  // evolve(TransferCreated), posted: both accounts' counters and the currency totals.
  debitSmall[DEBITS_POSTED] = (debitSmall[DEBITS_POSTED] as number) + amount;
  creditSmall[CREDITS_POSTED] = (creditSmall[CREDITS_POSTED] as number) + amount;
  const totals = totalsFor(state, currency).accounts;
  addSmall(totals, DEBITS_POSTED, amount);
  addSmall(totals, CREDITS_POSTED, amount);
  return true;
}
