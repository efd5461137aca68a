// A scenario is a named set of workload parameters plus how it is run; runBench turns one into a
// run. `kind` picks the driver: a closed-loop throughput run (`throughput`), one such run per
// cross-shard ratio (`cross-shard`) or per shard count (`scaling`), an open-loop run at a fixed
// offered rate (`latency`), a kill-and-reopen (`recovery`), or throughput and lag with and
// without the read model (`read-model`), or one shard's storage engine alone in rounds with its
// peers (`engine`).

export type ScenarioKind = 'throughput' | 'cross-shard' | 'scaling' | 'latency' | 'recovery' | 'read-model' | 'engine';

export interface Scenario {
  readonly name: string;
  readonly kind: ScenarioKind;
  readonly description: string;
  /** Its parameters, one line each, for --help and docs/benchmarks.md. */
  readonly parameters: readonly string[];
  readonly accounts: number;
  /** Transfers per createTransfers call. */
  readonly batchSize: number;
  readonly crossShardRatio: number;
  /** Zipf exponent of debit accounts; null = uniform. */
  readonly hotExponent: number | null;
}
