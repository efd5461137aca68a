// What a run records: its inputs, what each phase found, and the final report.

import type { AmountBasis, AutoRule } from './match-options.js';
import type { ClearingSide } from './ledger-source.js';
import type { Break, BreakClass, BreakStatus, BreakType, MatchCounts } from './types.js';

export interface RunInputs {
  readonly file: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly profile: string;
  readonly referenceKey: string;
  readonly clearingSide: ClearingSide;
  readonly clearingAccountTemplate: string;
  readonly amountBasis: AmountBasis;
  readonly amountTolerance: bigint;
  readonly dateToleranceMs: number;
  readonly autoRules: readonly AutoRule[];
  readonly fromMs: number | null;
  readonly toMs: number | null;
  readonly bucketCount: number;
}

export interface CurrencyTotals {
  readonly currency: string;
  readonly lines: number;
  readonly gross: bigint;
  readonly fee: bigint;
  readonly net: bigint;
}

export interface BadLine {
  readonly line: number;
  readonly reason: string;
}

export interface SettlementSummary {
  /** Lines after the header, blank lines aside. */
  readonly lines: number;
  readonly validLines: number;
  readonly badLines: number;
  /** The first bad lines (all of them are in the run's bad-lines.jsonl). */
  readonly badLineSamples: readonly BadLine[];
  readonly totals: readonly CurrencyTotals[];
  readonly firstSettledAtMs: number | null;
  readonly lastSettledAtMs: number | null;
}

export interface LedgerSummary {
  readonly clearingAccountIds: readonly string[];
  readonly transfers: number;
  readonly unreferencedTransfers: number;
  readonly adjustmentTransfers: number;
}

export interface BalanceCheck {
  readonly currency: string;
  readonly clearingAccountId: string;
  /** The clearing account's movement over the window, signed like settlement amounts. */
  readonly ledgerMovement: bigint;
  /** The file's total on the run's amount basis. */
  readonly settlementTotal: bigint;
  /** settlementTotal - ledgerMovement: 0 when the balances agree. */
  readonly drift: bigint;
}

export interface ReportBreak extends Break {
  readonly status: BreakStatus;
  /** The adjusting transfers posted when it was resolved. */
  readonly resolutionTransferIds: readonly string[];
}

export interface Report {
  readonly runId: string;
  readonly inputs: RunInputs;
  /** The time the file is reconciled up to: `to`, else its last settlement. */
  readonly cutoffMs: number | null;
  readonly settlement: SettlementSummary;
  readonly ledger: LedgerSummary;
  readonly matches: MatchCounts;
  readonly linesMatched: number;
  readonly transfersMatched: number;
  readonly breakCounts: Record<BreakType, number>;
  readonly classCounts: Record<BreakClass, number>;
  readonly breaks: readonly ReportBreak[];
  readonly balances: readonly BalanceCheck[];
}

export const runStatuses = ['running', 'done'] as const;
export type RunStatus = (typeof runStatuses)[number];

export interface RunRecord {
  readonly runId: string;
  readonly status: RunStatus;
  readonly inputs: RunInputs;
  readonly settlement: SettlementSummary | null;
  readonly ledger: LedgerSummary | null;
}
