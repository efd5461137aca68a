// The scenarios by name, one file each.
import { accounts1mScenario } from './accounts-1m.js';
import { changesScenario } from './changes.js';
import { crossShardScenario } from './cross-shard.js';
import { engineScenario } from './engine.js';
import { hotScenario } from './hot.js';
import { latencyScenario } from './latency.js';
import { readModelScenario } from './read-model.js';
import { recoveryScenario } from './recovery.js';
import { scalingScenario } from './scaling.js';
import { singleCallsScenario } from './single-calls.js';
import type { IdKind } from '../transfer-ids.js';
import type { PairKind } from '../workload.js';
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export type { Scenario, ScenarioKind } from './scenario.js';
export {
  crossShardHeadlineRatio,
  crossShardRatiosDefault,
  crossShardScenario,
} from './cross-shard.js';
export { changesEventsPerSecondTarget, changesStalledHeapMiBTarget } from './changes.js';
export {
  engineDurableFloorTps,
  engineDurableTargetTps,
  engineInFlightDefault,
  engineMemoryTargetTps,
  engineRoundsDefault,
} from './engine.js';
export {
  latencyBatchSizeDefault,
  latencyOfferedShareDefault,
  latencyPeakWindowMsMax,
} from './latency.js';
export {
  readModelDropTargetPercent,
  readModelLagBatchSizeDefault,
  readModelLagTargetMs,
  readModelRoundsDefault,
} from './read-model.js';
export { recoveryTransfersDefault } from './recovery.js';
export { scalingShardsDefault } from './scaling.js';
export { singleCallsCallersDefault } from './single-calls.js';

export const scenarios: readonly Scenario[] = [
  standardScenario,
  singleCallsScenario,
  crossShardScenario(),
  hotScenario,
  accounts1mScenario,
  latencyScenario,
  recoveryScenario,
  scalingScenario,
  readModelScenario,
  engineScenario,
  changesScenario,
];
export const scenarioNames = scenarios.map((scenario) => scenario.name);

export interface ScenarioChoices {
  readonly crossShardRatio?: number;
  readonly pairs?: PairKind;
  readonly ids?: IdKind;
}

/** The scenario `name`, with the pairs and ids asked for instead of its own. */
export function scenarioNamed(name: string, options: ScenarioChoices = {}): Scenario {
  const found =
    name === 'cross-shard'
      ? crossShardScenario(options.crossShardRatio)
      : scenarios.find((scenario) => scenario.name === name);
  if (found === undefined)
    throw new Error(`unknown scenario '${name}' (${scenarioNames.join(', ')})`);
  if (found.kind === 'cross-shard' && options.pairs === 'uniform')
    throw new Error(
      'cross-shard sets its own share of cross-shard pairs: --pairs uniform does not apply',
    );
  return {
    ...found,
    ...(options.pairs === undefined ? {} : { pairs: options.pairs }),
    ...(options.ids === undefined ? {} : { ids: options.ids }),
  };
}
