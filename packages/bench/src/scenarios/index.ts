// The scenarios by name, one file each.
import { accounts1mScenario } from './accounts-1m.js';
import { crossShardScenario } from './cross-shard.js';
import { engineScenario } from './engine.js';
import { hotScenario } from './hot.js';
import { latencyScenario } from './latency.js';
import { readModelScenario } from './read-model.js';
import { recoveryScenario } from './recovery.js';
import { scalingScenario } from './scaling.js';
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export type { Scenario, ScenarioKind } from './scenario.js';
export { crossShardHeadlineRatio, crossShardRatiosDefault, crossShardScenario } from './cross-shard.js';
export { engineDurableFloorTps, engineDurableTargetTps, engineInFlightDefault, engineMemoryTargetTps, engineRoundsDefault } from './engine.js';
export { latencyBatchSizeDefault, latencyOfferedShareDefault, latencyPeakWindowMsMax } from './latency.js';
export { readModelDropTargetPercent, readModelLagBatchSizeDefault, readModelLagTargetMs, readModelRoundsDefault } from './read-model.js';
export { recoveryTransfersDefault } from './recovery.js';
export { scalingShardsDefault } from './scaling.js';

export const scenarios: readonly Scenario[] = [standardScenario, crossShardScenario(), hotScenario, accounts1mScenario, latencyScenario, recoveryScenario, scalingScenario, readModelScenario, engineScenario];
export const scenarioNames = scenarios.map((scenario) => scenario.name);

export function scenarioNamed(name: string, options: { crossShardRatio?: number } = {}): Scenario {
  if (name === 'cross-shard') return crossShardScenario(options.crossShardRatio);
  const found = scenarios.find((scenario) => scenario.name === name);
  if (found === undefined) throw new Error(`unknown scenario '${name}' (${scenarioNames.join(', ')})`);
  return found;
}
