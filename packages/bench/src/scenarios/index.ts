// The scenarios by name (latency and recovery need the ledger and come with it).
import { accounts1mScenario } from './accounts-1m.js';
import { crossShardScenario } from './cross-shard.js';
import { hotScenario } from './hot.js';
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export type { Scenario } from './scenario.js';
export { crossShardRatiosDefault, crossShardScenario } from './cross-shard.js';

export function scenarioNamed(name: string, options: { crossShardRatio?: number } = {}): Scenario {
  switch (name) {
    case 'standard':
      return standardScenario;
    case 'cross-shard':
      return crossShardScenario(options.crossShardRatio ?? 0.1);
    case 'hot':
      return hotScenario;
    case 'accounts-1m':
      return accounts1mScenario;
    default:
      throw new Error(`unknown scenario '${name}' (standard, cross-shard, hot, accounts-1m)`);
  }
}
