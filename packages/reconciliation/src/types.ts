// The shapes reconciliation speaks: a settlement line read from a PSP file, a ledger entry read
// from the clearing account, and a break between them. Money is bigint minor units, signed so that
// a positive amount is money the PSP owes the merchant (a capture) and a negative one money that
// leaves the merchant (a refund, a payout, a chargeback), on both sides.

/** One valid line of a settlement file, in minor units of its currency. */
export interface SettlementLine {
  /** 1-based line number in the file (the header is line 1 of a CSV file). */
  readonly line: number;
  /** The PSP's unique id of the line. */
  readonly recordId: string;
  /** The operation: capture, refund, payout, chargeback, or a profile's own words. */
  readonly type: string;
  /** The match reference: the merchant's id, as the ledger's transfers carry it in metadata. */
  readonly reference: string;
  readonly pspReference: string;
  readonly currency: string;
  /** Signed gross amount. */
  readonly gross: bigint;
  /** The PSP's fee, at least 0: `net = gross - fee`. */
  readonly fee: bigint;
  readonly net: bigint;
  /** When the PSP settled it, ms since the epoch (UTC). */
  readonly settledAtMs: number;
}

/** How a ledger transfer stands, as far as matching cares. */
export const ledgerStates = ['posted', 'pending', 'voided'] as const;
export type LedgerState = (typeof ledgerStates)[number];

/** One transfer on a PSP clearing account, read through the public Ledger API. */
export interface LedgerEntry {
  readonly transferId: string;
  readonly reference: string;
  readonly currency: string;
  /** Signed like settlement amounts: positive for money the PSP owes (a capture). */
  readonly amount: bigint;
  readonly state: LedgerState;
  /** When the clearing account's shard took the transfer, ms since the epoch (ledger-source.ts). */
  readonly timestampMs: number;
}

export const breakTypes = [
  'missing_in_ledger',
  'missing_in_settlement',
  'amount_mismatch',
  'currency_mismatch',
  'status_mismatch',
  'duplicate',
] as const;
export type BreakType = (typeof breakTypes)[number];

/** Who can fix a break: a program (an auto-resolution rule applies), a person, or nobody can say
 * yet (it may settle in a later file). */
export const breakClasses = ['auto', 'manual', 'unclassified'] as const;
export type BreakClass = (typeof breakClasses)[number];

export const breakStatuses = ['open', 'resolved'] as const;
export type BreakStatus = (typeof breakStatuses)[number];

/** What a resolution would post: per currency, the signed amount to add to the clearing account's
 * movement so that the ledger agrees with the file (0 posts nothing). */
export interface Adjustment {
  readonly currency: string;
  readonly amount: bigint;
}

export interface Break {
  /** Deterministic: a hash of the type, the reference and the ids on both sides. */
  readonly id: string;
  readonly type: BreakType;
  readonly reference: string;
  /** Why, in a word a program can test: `fee_not_booked`, `voided`, `pending`, `repeated`, ... */
  readonly cause: string;
  readonly classification: BreakClass;
  readonly recordIds: readonly string[];
  /** Line numbers of the settlement lines involved. */
  readonly lines: readonly number[];
  readonly transferIds: readonly string[];
  /** Settlement side, on the chosen amount basis, per currency of the lines. */
  readonly settlementAmount: bigint;
  readonly ledgerAmount: bigint;
  readonly currency: string;
  readonly adjustments: readonly Adjustment[];
}

/** How settlement lines and ledger transfers were paired. */
export const matchKinds = ['one_to_one', 'one_to_many', 'many_to_one', 'many_to_many'] as const;
export type MatchKind = (typeof matchKinds)[number];

export type MatchCounts = Record<MatchKind, number>;

export function emptyMatchCounts(): MatchCounts {
  return { one_to_one: 0, one_to_many: 0, many_to_one: 0, many_to_many: 0 };
}
