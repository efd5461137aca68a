// A scenario is a named set of workload parameters plus how it is run; runBench turns one into a
// run. `kind` picks the driver: a closed-loop throughput run (`throughput`), one such run per
// cross-shard ratio (`cross-shard`) or per shard count (`scaling`), an open-loop run at a fixed
// offered rate (`latency`), a kill-and-reopen (`recovery`), or throughput and lag with and
// without the read model (`read-model`), or one shard's storage engine alone in rounds with its
// peers (`engine`), or the change feed read in process after a write run (`changes`).

import type { IdKind } from '../transfer-ids.js';
import type { PairKind } from '../workload.js';

export type ScenarioKind =
  | 'throughput'
  | 'cross-shard'
  | 'scaling'
  | 'latency'
  | 'recovery'
  | 'read-model'
  | 'engine'
  | 'changes';

export interface Scenario {
  readonly name: string;
  readonly kind: ScenarioKind;
  readonly description: string;
  /** Its parameters, one line each, for --help and docs/benchmarks.md. */
  readonly parameters: readonly string[];
  readonly accounts: number;
  /** Transfers per createTransfers call. */
  readonly batchSize: number;
  /** How the two accounts of a transfer are drawn (workload.ts PairKind). */
  readonly pairs: PairKind;
  /** With co-located pairs: the share of transfers whose accounts live on two shards. */
  readonly crossShardRatio: number;
  /** The kind of transfer ids sent. */
  readonly ids: IdKind;
  /** Calls the ledger keeps in flight (callers); default 2 per shard. */
  readonly callers?: number;
  /** Zipf exponent of debit accounts; null = uniform. */
  readonly hotExponent: number | null;
}
