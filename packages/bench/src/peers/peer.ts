// What every runner (Shardledger or a peer) is given and what it returns.

import type { Measurement } from '../measure.js';
import type { Progress } from '../progress.js';
import type { Durability } from '../target.js';
import type { Workload } from '../workload.js';

export interface RunOptions {
  readonly workload: Workload;
  readonly durability: Durability;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** A fresh directory the runner may use (and leave behind; the caller deletes it). */
  readonly dir: string;
  readonly progress: Progress;
}

/** Money checks done after the run: a runner that loses or invents money throws instead. */
export interface RunChecks {
  /** Transfers applied (status ok) over warm-up and window together. */
  readonly appliedCount: number;
  readonly debitsTotal: bigint;
  readonly creditsTotal: bigint;
}

export interface RunResult extends Measurement {
  readonly name: string;
  /** One line on what was measured and how, for the report. */
  readonly method: string;
  readonly checks: RunChecks | null;
}

export interface SkippedRun {
  readonly name: string;
  readonly skipped: string;
}

export interface Peer {
  readonly name: string;
  run(options: RunOptions): Promise<RunResult | SkippedRun>;
}

export function isSkipped(result: RunResult | SkippedRun): result is SkippedRun {
  return 'skipped' in result;
}

/** Throws unless debits == credits == the sum of applied amounts. */
export function assertConserved(name: string, checks: RunChecks, appliedAmountTotal: bigint): void {
  if (checks.debitsTotal !== checks.creditsTotal) {
    throw new Error(
      `${name}: money not conserved: debits ${checks.debitsTotal} != credits ${checks.creditsTotal}`,
    );
  }
  if (checks.debitsTotal !== appliedAmountTotal) {
    throw new Error(
      `${name}: balances moved ${checks.debitsTotal} but applied transfers sum to ${appliedAmountTotal}`,
    );
  }
}
