// `standard`: what applications send: 10,000 accounts, both accounts of each transfer drawn from
// all accounts (so pairs cross shards wherever hashing puts them), random UUIDv4 transfer ids.
import { batchSizeDefault } from '../workload.js';
import type { Scenario } from './scenario.js';

export const standardScenario: Scenario = {
  name: 'standard',
  kind: 'throughput',
  description:
    '10,000 accounts, debit and credit drawn from all accounts, UUIDv4 ids, batches of 8,190, closed loop',
  parameters: [
    '--duration S (window, default 10) after --warmup S (default 2); 2 calls in flight per shard',
    '--shards N (default: 1, the ledger default), --durability strict|relaxed|replicated (default strict), --seed N',
  ],
  accounts: 10_000,
  batchSize: batchSizeDefault,
  pairs: 'uniform',
  crossShardRatio: 0,
  ids: 'uuidv4',
  hotExponent: null,
};
