// `read-model`: the cost of the CQRS read model (against the project's two targets), measured in
// one run.
// Closed-loop `standard` runs alternate without and with a ReadModel following the logs (fresh
// ledger each, the order swapped every round so that drift on a shared machine falls on both
// sides); then an open loop at half the median peak, with the read model, times each call from
// its acknowledgement to the moment the projection holds it. Also run as `standard
// --with-read-model`.
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

/** Pairs of closed-loop runs (without, with); the drop reported is the median of the pairs'. */
export const readModelRoundsDefault = 5;
/** Transfers per call in the lag run: smaller than the throughput batch so that a window holds
 * hundreds of acknowledgements to time, not a few dozen. */
export const readModelLagBatchSizeDefault = 1_024;
/** The project's targets: a read model must not cost the writers more than 10% of their
 * throughput, and must follow them within a second, or statements and searches confuse users. */
export const readModelLagTargetMs = 1_000;
export const readModelDropTargetPercent = 10;
/** Halvings of the offered rate tried, with the read model, when the lag at half the peak misses
 * the target: the rate it keeps up with (down to 1/16 of the peak by default). */
export const readModelKeepUpStepsMax = 3;

export const readModelScenario: Scenario = {
  ...standardScenario,
  name: 'read-model',
  kind: 'read-model',
  description:
    'standard without and with the read model (alternating pairs, same run), then the projection lag at half the peak',
  parameters: [
    '--rounds N: pairs of closed-loop runs, without and with the read model (default 5); --duration S each',
    'then an open loop at half the median peak (or --rate) in calls of 1,024, with the read model: lag = call acknowledged -> projected',
    'and the same open loop without the read model, for write latency; targets: drop < 10%, lag < 1 s',
    'if the lag misses 1 s: open loops with the read model at half, a quarter, an eighth of that rate until one meets it',
  ],
};
