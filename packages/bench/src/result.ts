// The shape of a bench result: what `--json` writes and what reports and docs are made from.
// Numbers only (bigints are already checked and dropped), so it survives JSON as is.

import type { Environment } from './environment.js';
import { isSkipped, type RunResult, type SkippedRun } from './peers/peer.js';
import type { Durability } from './target.js';

export interface RunEntry {
  readonly name: string;
  /** Transfers per second in the measured window; null when skipped. */
  readonly tps: number | null;
  /** subject tps / this tps: "the subject is N times faster"; null when skipped. */
  readonly ratio: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly maxMs: number | null;
  readonly transfers: number;
  readonly durationS: number;
  readonly tpsPerSecond: readonly number[];
  readonly method: string;
  readonly exhausted: boolean;
  readonly skipped?: string;
}

export interface ScalingPoint {
  readonly shards: number;
  readonly tps: number;
}

export interface BenchResult {
  readonly scenario: string;
  /** The runner the ratios compare against: the ledger, or a peer in peers-only runs. */
  readonly subject: string;
  readonly tps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly transfers: number;
  readonly durationS: number;
  readonly tpsPerSecond: readonly number[];
  /** How the subject was measured (one line). */
  readonly method: string;
  readonly shards: number;
  readonly accounts: number;
  readonly durability: Durability;
  readonly batchSize: number;
  readonly crossShardRatio: number;
  readonly crossShardTransfers: number;
  readonly hotExponent: number | null;
  readonly seed: number;
  readonly peers: readonly RunEntry[];
  readonly scaling: readonly ScalingPoint[];
  readonly environment: Environment;
  readonly command: string;
  readonly startedAt: string;
}

export function entryOf(run: RunResult | SkippedRun, subjectTps: number | null): RunEntry {
  if (isSkipped(run)) {
    return { name: run.name, tps: null, ratio: null, p50Ms: null, p99Ms: null, p999Ms: null, maxMs: null, transfers: 0, durationS: 0, tpsPerSecond: [], method: '', exhausted: false, skipped: run.skipped };
  }
  return {
    name: run.name,
    tps: run.tps,
    ratio: subjectTps === null || run.tps === 0 ? null : subjectTps / run.tps,
    p50Ms: run.latency.p50Ms,
    p99Ms: run.latency.p99Ms,
    p999Ms: run.latency.p999Ms,
    maxMs: run.latency.maxMs,
    transfers: run.transfers,
    durationS: run.durationS,
    tpsPerSecond: run.tpsPerSecond,
    method: run.method,
    exhausted: run.exhausted,
  };
}
