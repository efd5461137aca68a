// The options of one bench run (`runBench`, `shardledger bench`): the scenario, the measured
// windows, the shards and durability, the peers to run next to the ledger, and each scenario's
// own knobs, with their defaults.

import type { PostgresPeerOptions } from './peers/postgres.js';
import type { Scenario } from './scenarios/index.js';
import type { Durability, OpenTarget } from './target.js';

export const peerNames = [
  'sqlite',
  'sqlite-insert',
  'postgres',
  'postgres-per-transfer',
  'memory-limit',
  'lmdb-limit',
] as const;
export type PeerName = (typeof peerNames)[number];

/** Defaults of `runBench` (and of `shardledger bench`). */
export const benchDefaults = {
  durationMs: 10_000,
  warmupMs: 2_000,
  durability: 'strict',
  seed: 42,
} as const;

export interface BenchOptions {
  /** A scenario or its name: standard | cross-shard | hot | accounts-1m | latency | recovery |
   * scaling | read-model | engine. */
  readonly scenario: Scenario | string;
  /** The ledger's measured window (default 10 s). Peers cap theirs: SQLite and sqlite-insert 5 s,
   * PostgreSQL 3 s, memory-limit and lmdb-limit 2 s (their rates are flat after a second). */
  readonly durationMs?: number;
  /** Warm-up before each window (default 2 s; peers cap it at 1 s or 0.5 s). */
  readonly warmupMs?: number;
  /** Shards (default: the ledger's own default, shardCountDefault; `engine` runs one shard and
   * takes no other count). */
  readonly shards?: number;
  readonly durability?: Durability;
  readonly seed?: number;
  /** Transfers per call; default the scenario's (8,190; 512 for latency). */
  readonly batchSize?: number;
  /** Caps the transfers a runner may send (default: open-ended, runners stop on time). */
  readonly transfers?: number;
  /** Default all five; none for `recovery` and `read-model`; `engine`: lmdb-limit, sqlite,
   * memory-limit (its default), postgres not supported. */
  readonly peers?: readonly PeerName[];
  /** The ledger under test; default Shardledger. null = peers only (the first peer is the
   * subject). */
  readonly openTarget?: OpenTarget | null;
  readonly targetName?: string;
  /** createTransfers calls in flight; default 2 per shard. `engine`: submitEncoded calls
   * (default 3). */
  readonly targetConcurrency?: number;
  /** `scaling`: the shard counts (default 1,2,4,8). Other scenarios: extra short runs for the
   * chart. */
  readonly scalingShards?: readonly number[];
  /** `cross-shard`: the ratios (default 0, 0.1, 0.5, 1). */
  readonly crossShardRatios?: readonly number[];
  /** `latency`: offered transfers/s (default half the measured closed-loop peak). */
  readonly offeredTps?: number;
  /** `recovery`: acknowledged transfers in the log before the kill (default 200,000). */
  readonly recoveryTransfers?: number;
  /** `read-model`: closed-loop pairs without and with the read model (default 5). The open
   * loops' rate is `offeredTps` (default half the median peak without it). */
  readonly readModelRounds?: number;
  /** `read-model`: the lag target (default 1,000 ms) and how many halvings of the
   * offered rate the keep-up search tries when the lag misses it (default 3). */
  readonly readModelLagTargetMs?: number;
  readonly readModelKeepUpSteps?: number;
  /** `engine`: rounds of engine, lmdb-limit and SQLite runs (default 3); medians reported. */
  readonly engineRounds?: number;
  readonly postgres?: PostgresPeerOptions;
  /** Live progress line on stderr (default true). */
  readonly progress?: boolean;
  /** The command line that produced the result (goes into the JSON and the docs). */
  readonly command?: string;
}
