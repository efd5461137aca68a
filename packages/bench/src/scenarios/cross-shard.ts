// `cross-shard`: co-located pairs (both accounts on one shard) except for a share of transfers
// whose two accounts live on different shards (each such transfer is a reserve/commit saga).
// Sweeps 0%, 10%, 50% and 100% in one invocation (one fresh ledger per ratio), or runs one ratio
// with --cross-shard-ratio.
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export const crossShardRatiosDefault = [0, 0.1, 0.5, 1] as const;
/** Shards when none are named: the fewest that a transfer can cross (the ledger's own default
 * is one shard). */
export const crossShardShardsDefault = 2;
/** The sweep point whose figures head the result (the 10% floor). */
export const crossShardHeadlineRatio = 0.1;

export function crossShardScenario(crossShardRatio: number = crossShardHeadlineRatio): Scenario {
  return {
    ...standardScenario,
    name: 'cross-shard',
    kind: 'cross-shard',
    description:
      'standard with 0%, 10%, 50% and 100% of transfers crossing shards (one ledger run per ratio; the peers run once, on the 10% workload)',
    parameters: [
      '--cross-shard-ratio R: run only this ratio in [0, 1] instead of the sweep',
      '--duration S applies to each ratio (4 ratios = 4 windows)',
    ],
    pairs: 'co-located',
    crossShardRatio,
  };
}
