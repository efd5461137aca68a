// The options of matching, shared by the main thread and the match workers (plain data: they
// cross threads by structured clone).

import type { BreakType } from './types.js';

/** Which settlement amount a ledger transfer books: the gross (fees booked apart, or not at all)
 * or the net (the PSP's fee already taken off). */
export const amountBases = ['gross', 'net'] as const;
export type AmountBasis = (typeof amountBases)[number];

/** A break that matches a rule is one a program can fix (classification `auto`). */
export interface AutoRule {
  readonly type: BreakType;
  /** Only breaks with this cause; any cause when absent. */
  readonly cause?: string;
  /** Only breaks whose difference is at most this many minor units either way. */
  readonly amountMax?: bigint;
}

export interface MatchOptions {
  readonly amountBasis: AmountBasis;
  /** Amounts this close (minor units, either way) match. */
  readonly amountTolerance: bigint;
  /** A settlement line matches a ledger transfer at most this long before or after it. */
  readonly dateToleranceMs: number;
  readonly autoRules: readonly AutoRule[];
}

/** Breaks a program can fix without a person: a line the PSP sent twice (nothing to post), and
 * a fee booked on the wrong basis (the difference is exactly the fee). */
export const autoRulesDefault: readonly AutoRule[] = [
  { type: 'duplicate', cause: 'repeated' },
  { type: 'amount_mismatch', cause: 'fee_not_booked' },
  { type: 'amount_mismatch', cause: 'fee_booked' },
];

export const matchOptionsDefault: MatchOptions = {
  amountBasis: 'gross',
  amountTolerance: 0n,
  dateToleranceMs: 5 * 24 * 3_600_000,
  autoRules: autoRulesDefault,
};
