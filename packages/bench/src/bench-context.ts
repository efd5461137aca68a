// What every part of one bench run shares: the resolved options (the `Context`), the outcome the
// subject's runs hand to the peers and the result (`SubjectOutcome`), and the workload maker that
// gives every runner the same seeded transfers.

import type { BenchOptions } from './bench-options.js';
import type { RunResult } from './peers/peer.js';
import type { Progress } from './progress.js';
import type {
  CrossShardPoint,
  EngineSummary,
  OpenLoopSummary,
  ReadModelSummary,
  RecoverySummary,
  ScalingPoint,
} from './result.js';
import type { Scenario } from './scenarios/index.js';
import type { Durability, OpenTarget } from './target.js';
import { generateWorkload, type Workload } from './workload.js';

/** One run's options with every default filled in, plus its temp directory and progress line. */
export interface Context {
  readonly options: BenchOptions;
  readonly scenario: Scenario;
  readonly base: string;
  readonly shards: number;
  readonly durability: Durability;
  readonly seed: number;
  readonly batchSize: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly openTarget: OpenTarget | null;
  readonly name: string;
  readonly progress: Progress;
}

/** What the subject's runs produced, before the peers. */
export interface SubjectOutcome {
  readonly run: RunResult;
  readonly crossShardRatio: number;
  readonly crossShardTransfers: number;
  /** The partition function of the headline ledger, so that the peers run the same pairs. */
  readonly shardOf: (accountId: string) => number;
  readonly scaling: readonly ScalingPoint[];
  readonly crossShardSweep: readonly CrossShardPoint[];
  readonly openLoop: OpenLoopSummary | null;
  readonly recovery: RecoverySummary | null;
  readonly readModel?: ReadModelSummary;
  /** Runs shown next to the subject as peers (the read-model scenario's run without; the engine
   * scenario's peers, which it runs itself, interleaved with the engine). */
  readonly extraRuns?: readonly RunResult[];
  readonly engine?: EngineSummary;
}

/** The scenario's workload for one runner, generated lazily from the seed; `runId` goes into
 * ordered transfer ids and UUIDv7 timestamps. */
export function makeWorkload(
  ctx: Context,
  spec: {
    shardOf: (id: string) => number;
    crossShardRatio: number;
    runId: string;
    batchSize?: number;
  },
): Workload {
  return generateWorkload({
    seed: ctx.seed,
    accountCount: ctx.scenario.accounts,
    ...(ctx.options.transfers === undefined ? {} : { transferCount: ctx.options.transfers }),
    batchSize: spec.batchSize ?? ctx.batchSize,
    pairs: ctx.scenario.pairs,
    ids: ctx.scenario.ids,
    ...(ctx.scenario.pairs === 'co-located' ? { crossShardRatio: spec.crossShardRatio } : {}),
    shardOf: spec.shardOf,
    ...(ctx.scenario.hotExponent === null ? {} : { hotExponent: ctx.scenario.hotExponent }),
    runId: spec.runId,
  });
}
