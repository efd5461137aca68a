// `single-calls`: the shape an HTTP payment service produces: many concurrent callers, each call
// one transfer (uniform pairs, UUIDv4 ids). The ledger must coalesce them into large group
// commits itself; the figure is throughput plus the p50 and p99 of one call.
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

/** Concurrent callers, each with one call of one transfer in flight. */
export const singleCallsCallersDefault = 512;

export const singleCallsScenario: Scenario = {
  ...standardScenario,
  name: 'single-calls',
  description: `${singleCallsCallersDefault} concurrent callers, one transfer per call, uniform pairs, UUIDv4 ids; p50/p99 per call`,
  parameters: [
    '--in-flight N: concurrent callers (default 512); the peers get the same calls of one transfer',
  ],
  batchSize: 1,
  callers: singleCallsCallersDefault,
};
