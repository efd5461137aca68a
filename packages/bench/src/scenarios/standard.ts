// `standard`: TigerBeetle's default benchmark workload: 10,000 accounts, uniform random pairs.
import { batchSizeDefault } from '../workload.js';
import type { Scenario } from './scenario.js';

export const standardScenario: Scenario = {
  name: 'standard',
  kind: 'throughput',
  description: '10,000 accounts, uniform random debit/credit pairs, batches of 8,190, closed loop',
  parameters: [
    '--duration S (window, default 10) after --warmup S (default 2); 2 calls in flight per shard',
    '--shards N (default: CPU count), --durability strict|relaxed (default strict), --seed N',
  ],
  accounts: 10_000,
  batchSize: batchSizeDefault,
  crossShardRatio: 0,
  hotExponent: null,
};
