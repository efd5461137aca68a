// `cross-shard`: the standard workload with a given share of transfers crossing shards.
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export const crossShardRatiosDefault = [0, 0.1, 0.5, 1] as const;

export function crossShardScenario(crossShardRatio: number): Scenario {
  return { ...standardScenario, name: 'cross-shard', description: `standard with ${crossShardRatio * 100}% of transfers crossing shards`, crossShardRatio };
}
