// `latency`: open-loop load at a fixed offered rate, no coordinated omission (see open-loop.ts):
// first a short closed-loop run finds the peak, then batches are sent on a fixed schedule at
// half of it (or --rate) and each call's latency is measured from its scheduled send time.
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

/** Smaller than the throughput batch, so a window holds thousands of calls, not a dozen. */
export const latencyBatchSizeDefault = 512;
export const latencyOfferedShareDefault = 0.5;
/** The closed-loop peak-finding run. */
export const latencyPeakWindowMsMax = 5000;

export const latencyScenario: Scenario = {
  ...standardScenario,
  name: 'latency',
  kind: 'latency',
  description:
    'open loop at a fixed offered rate (default half the measured peak), batches of 512, p50/p99/p99.9/max from the scheduled send time',
  parameters: [
    '--rate N: offered transfers/s (default: half the peak of a closed-loop run of up to 5 s)',
    '--batch-size N (default 512); --duration S: the open-loop window',
    'at most 256 calls in flight; beyond that the run stops sending and is reported SATURATED',
  ],
  batchSize: latencyBatchSizeDefault,
};
