// `scaling`: the standard workload on 1, 2, 4 and 8 shards (or --scaling LIST), one fresh
// ledger per shard count, to show how throughput scales with shards on this machine.
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export const scalingShardsDefault = [1, 2, 4, 8] as const;

export const scalingScenario: Scenario = {
  ...standardScenario,
  name: 'scaling',
  kind: 'scaling',
  description:
    'standard on 1, 2, 4 and 8 shards, one ledger run per shard count (the peers run once)',
  parameters: [
    '--scaling LIST: shard counts (default 1,2,4,8); --duration S applies to each',
    'the headline figures are those of --shards (default: 1, the ledger default) when in the list, else the first',
  ],
};
