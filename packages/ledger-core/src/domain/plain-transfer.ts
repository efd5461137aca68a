// decide + evolve, specialised for the transfer almost every payment is: posted at once (not
// pending), no metadata, an amount below 2^53, between two accounts whose counters are still
// exact numbers. For such a transfer with an id known to be new, decideCreateTransfer either
// accepts (one TransferCreated) or rejects; this function applies exactly what evolve would for
// the acceptance, without the command, decision and event objects, and declines (returns false,
// changing nothing) wherever decide might reject or any other rule is involved. The caller then
// runs the general path, which gives the exact result. The storage engine's plain-transfer lane
// (ShardEngine.submitEncoded) is its user; plain-lane.prop.test.ts holds the two paths side by
// side. The caller advances lastSequence and lastTimestamp (it batches the bigint work).

import {
  COUNTER_ROW_SHIFT,
  COUNTER_ROWS_PER_CHUNK,
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
  addCounter,
  type Counters,
} from './balance.js';
import { assert } from '../assert.js';
import { totalsFor, type AccountState, type LedgerState } from './state.js';
import { accountFlags, accountStatusFlags } from './types.js';

const SAFE = Number.MAX_SAFE_INTEGER;
const ROW_SHIFT = COUNTER_ROW_SHIFT;
const ROW_MASK = COUNTER_ROWS_PER_CHUNK - 1;

/** addCounter for an exact number amount; the bigint only when the counter has to widen. */
function addSmall(counters: Counters, index: 0 | 1, amount: number): void {
  if (counters.wide === null) {
    const sum = (counters.values[counters.at + index] as number) + amount;
    if (sum <= SAFE) {
      counters.values[counters.at + index] = sum;
      return;
    }
  }
  addCounter(counters, index, BigInt(amount), amount);
}

/**
 * Applies a plain posted transfer of `amount` (a safe integer > 0) from `debitAccountId` to
 * `creditAccountId` in `currency`, whose id the caller knows to be new. Returns false, changing
 * nothing, unless decide would accept it and no account involved has a flag in `declineFlags`
 * (the engine passes the history flag: those postings are indexed by the general path) or a
 * status flag (frozen or closed: decide refuses those).
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
  if (debit === undefined || credit === undefined) return false;
  return applyPlainPosting(state, debit, credit, currency, amount, declineFlags);
}

/**
 * applyPlainTransfer once both accounts are found: reads and writes their counters in the
 * state's CounterRows by ordinal (not through account.counters), where a wide account's row
 * holds Infinity and so fails the 2^53 checks.
 */
export function applyPlainPosting(
  state: LedgerState,
  debit: AccountState,
  credit: AccountState,
  currency: string,
  amount: number,
  declineFlags: number,
): boolean {
  if (debit === credit) return false;
  if (debit.currency !== currency || credit.currency !== currency) return false;
  assert(debit.scale === credit.scale, 'accounts of one currency have one scale');
  const debitFlags = debit.flags;
  const creditFlags = credit.flags;
  // A frozen or closed account is refused by decide (ACCOUNT_FROZEN, ACCOUNT_CLOSED).
  if (((debitFlags | creditFlags) & (declineFlags | accountStatusFlags)) !== 0) return false;
  const chunks = state.counterRows.chunks;
  const debitOrdinal = debit.ordinal;
  const creditOrdinal = credit.ordinal;
  const debitRow = chunks[debitOrdinal >>> ROW_SHIFT] as Float64Array;
  const creditRow = chunks[creditOrdinal >>> ROW_SHIFT] as Float64Array;
  const debitAt = (debitOrdinal & ROW_MASK) << 2;
  const creditAt = (creditOrdinal & ROW_MASK) << 2;
  // checkSide (transfer-decider.ts) of each side, on exact numbers: sums past 2^53 (or Infinity,
  // a wide account) go the general way.
  const debitsPosted = debitRow[debitAt + DEBITS_POSTED] as number;
  const creditsPosted = creditRow[creditAt + CREDITS_POSTED] as number;
  const debitsAfter = debitsPosted + (debitRow[debitAt + DEBITS_PENDING] as number) + amount;
  const creditsAfter = creditsPosted + (creditRow[creditAt + CREDITS_PENDING] as number) + amount;
  if (debitsAfter > SAFE || creditsAfter > SAFE) return false;
  if (
    (debitFlags & accountFlags.debitsMustNotExceedCredits) !== 0 &&
    debitsAfter > (debitRow[debitAt + CREDITS_POSTED] as number)
  )
    return false;
  if (
    (creditFlags & accountFlags.creditsMustNotExceedDebits) !== 0 &&
    creditsAfter > (creditRow[creditAt + DEBITS_POSTED] as number)
  )
    return false;
  // evolve(TransferCreated), posted: both accounts' counters and the currency totals.
  debitRow[debitAt + DEBITS_POSTED] = debitsPosted + amount;
  creditRow[creditAt + CREDITS_POSTED] = creditsPosted + amount;
  const totals = totalsFor(state, currency).accounts;
  addSmall(totals, DEBITS_POSTED, amount);
  addSmall(totals, CREDITS_POSTED, amount);
  return true;
}
