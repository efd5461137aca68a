// The shape of a bench result: what `--json` writes and what reports and docs are made from.
// Numbers only (bigints are already checked and dropped), so it survives JSON as is.

import type { Environment } from './environment.js';
import { isSkipped, type RunResult, type SkippedRun } from './peers/peer.js';
import type { Durability } from './target.js';
import type { IdKind } from './transfer-ids.js';
import type { PairKind } from './workload.js';

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

/** One ledger run of a sweep (shard counts for scaling, ratios for cross-shard). */
export interface ScalingPoint {
  readonly shards: number;
  readonly tps: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly transfers?: number;
  readonly durationS?: number;
}

export interface CrossShardPoint {
  readonly crossShardRatio: number;
  /** Transfers sent (warm-up and window) whose accounts are on different shards. */
  readonly crossShardTransfers: number;
  readonly tps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly transfers: number;
  readonly durationS: number;
}

/** The `latency` scenario: the open-loop run behind the headline latency figures. */
export interface OpenLoopSummary {
  readonly offeredTps: number;
  /** Closed-loop peak the offered rate was derived from; null when --rate was given. */
  readonly peakTps: number | null;
  readonly batchSize: number;
  readonly intervalMs: number;
  readonly sends: number;
  /** Latency from the actual send time (coordinated omission not corrected), for comparison. */
  readonly uncorrectedP50Ms: number;
  readonly uncorrectedP99Ms: number;
  readonly saturated: boolean;
}

/** The `recovery` scenario. */
export interface RecoverySummary {
  readonly transfersAcknowledged: number;
  readonly writeS: number;
  readonly openMs: number;
  readonly verifyMs: number;
  readonly recoveredTps: number;
}

/** One closed-loop pair of the `read-model` scenario. */
export interface ReadModelRound {
  readonly withoutTps: number;
  readonly withTps: number;
  /** (1 - with / without) * 100; negative when the run with the read model was faster. */
  readonly dropPercent: number;
  /** Time the read model took to catch up once the writes of its run stopped (first round
   * only; null in later rounds, which close it without catching up). */
  readonly catchUpMs: number | null;
  /** Events left to project when that catch-up started (null with catchUpMs): backlog / time is
   * the catch-up rate with the writers idle. Absent in results of older builds. */
  readonly catchUpEvents?: number | null;
  /** The run with the read model went first in this round. */
  readonly withFirst: boolean;
}

/** One open loop of the keep-up search: the read model at a lower offered rate. */
export interface ReadModelLagTry {
  readonly offeredTps: number;
  readonly achievedTps: number;
  readonly lagCount: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
}

/** The `read-model` scenario: write throughput with and without the read model, and the lag. */
export interface ReadModelSummary {
  readonly rounds: readonly ReadModelRound[];
  readonly dropPercentMedian: number;
  /** Median closed-loop transfers/s without the read model. */
  readonly peakTps: number;
  /** The open loops' offered rate: half of peakTps unless --rate was given. */
  readonly offeredTps: number;
  readonly peakDerived: boolean;
  readonly lagBatchSize: number;
  /** Calls timed from acknowledgement to projected, and the percentiles of that time. */
  readonly lagCount: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly achievedTpsWith: number;
  readonly achievedTpsWithout: number;
  /** Write latency per call in the open loops (from the scheduled send time). */
  readonly writeP50MsWith: number;
  readonly writeP99MsWith: number;
  readonly writeP50MsWithout: number;
  readonly writeP99MsWithout: number;
  readonly saturated: boolean;
  /** The lag target the verdicts use (1,000 ms unless a test lowered it). */
  readonly lagTargetMs: number;
  /** When the lag at offeredTps missed the target: open loops with the read model at half,
   * a quarter... of it, until one meets the target (at most readModelKeepUpStepsMax). */
  readonly keepUpTries: readonly ReadModelLagTry[];
  /** The highest rate tried whose lag met the target (offeredTps when it did); null when none. */
  readonly keepUpTps: number | null;
  /** The machine's 1-minute load average when the scenario started and ended. */
  readonly loadAverageStart: number;
  readonly loadAverageEnd: number;
}

/** One round of the `engine` scenario: the engine and its durable peers, back to back. */
export interface EngineRound {
  /** The runners in the order they ran this round (rotated every round). */
  readonly order: readonly string[];
  readonly engineTps: number;
  /** null when the peer was left out (--peers). */
  readonly lmdbLimitTps: number | null;
  readonly sqliteTps: number | null;
  /** engineTps / the peer's tps (this round's pair). */
  readonly engineOverLmdbLimit: number | null;
  readonly engineOverSqlite: number | null;
  /** process.cpuUsage (user + system, every thread) over the window / transfers completed. */
  readonly cpuUsPerTransfer: number;
  /** Wall time inside the submitEncoded calls themselves (decide, evolve, the log record: the
   * synchronous part, before the commit is awaited) / transfers submitted in the window. On a
   * loaded machine it includes time the thread waited for a core. */
  readonly syncUsPerTransfer: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The pre-encoded input ran out before the window's end (the window was shortened). */
  readonly exhausted: boolean;
}

/** The `engine` scenario: one ShardEngine alone, against the project's floor and targets. */
export interface EngineSummary {
  readonly rounds: readonly EngineRound[];
  /** Medians over the rounds (of the figures, and of each round's ratios). */
  readonly engineTpsMedian: number;
  readonly lmdbLimitTpsMedian: number | null;
  readonly sqliteTpsMedian: number | null;
  readonly engineOverLmdbLimitMedian: number | null;
  readonly engineOverSqliteMedian: number | null;
  readonly cpuUsPerTransferMedian: number;
  readonly syncUsPerTransferMedian: number;
  /** In memory, one run each after the rounds; null when left out. */
  readonly memoryLimitTps: number | null;
  readonly kernelTps: number | null;
  readonly durableFloorTps: number;
  readonly durableTargetTps: number;
  readonly memoryTargetTps: number;
  readonly inFlight: number;
  /** Batches encoded before the first round (shared by every round) and the time it took. */
  readonly inputBatches: number;
  readonly encodeS: number;
  /** Share of the transfers applied by the engine's plain-transfer lane (time-ordered ids: 1). */
  readonly plainLaneShare: number;
  /** verify() after the first round (a replay of its whole log), ms. */
  readonly verifyMs: number;
  readonly loadAverageStart: number;
  readonly loadAverageEnd: number;
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
  /** How the accounts of a transfer were drawn; absent in results written before it was
   * recorded, which all used co-located pairs. */
  readonly pairs?: PairKind;
  /** The kind of transfer ids; absent in older results, which all used ordered ids. */
  readonly ids?: IdKind;
  readonly seed: number;
  readonly peers: readonly RunEntry[];
  readonly scaling: readonly ScalingPoint[];
  /** `cross-shard` scenario: one point per ratio (empty otherwise). */
  readonly crossShardSweep: readonly CrossShardPoint[];
  readonly openLoop: OpenLoopSummary | null;
  readonly recovery: RecoverySummary | null;
  /** `read-model` scenario only (absent from results written before it existed). */
  readonly readModel?: ReadModelSummary | null;
  /** `engine` scenario only (absent from results written before it existed). */
  readonly engine?: EngineSummary | null;
  /** Wall time of the whole runBench call, setup (accounts, initdb) and checks included. */
  readonly wallS: number;
  readonly environment: Environment;
  readonly command: string;
  readonly startedAt: string;
}

export function entryOf(run: RunResult | SkippedRun, subjectTps: number | null): RunEntry {
  if (isSkipped(run)) {
    return {
      name: run.name,
      tps: null,
      ratio: null,
      p50Ms: null,
      p99Ms: null,
      p999Ms: null,
      maxMs: null,
      transfers: 0,
      durationS: 0,
      tpsPerSecond: [],
      method: '',
      exhausted: false,
      skipped: run.skipped,
    };
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
