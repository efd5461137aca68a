// A scenario is a named set of workload parameters; runBench turns one into a run.

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly accounts: number;
  readonly crossShardRatio: number;
  /** Zipf exponent of debit accounts; null = uniform. */
  readonly hotExponent: number | null;
}
