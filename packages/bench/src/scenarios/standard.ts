// `standard`: TigerBeetle's default benchmark workload: 10,000 accounts, uniform random pairs.
import type { Scenario } from './scenario.js';

export const standardScenario: Scenario = {
  name: 'standard',
  description: '10,000 accounts, uniform random debit/credit pairs, batches of 8,190',
  accounts: 10_000,
  crossShardRatio: 0,
  hotExponent: null,
};
