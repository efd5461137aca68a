// The closed-loop sweeps on the ledger: over shard counts (the `scaling` scenario, and the short
// extra runs other scenarios add for the scaling chart) and over cross-shard ratios (the
// `cross-shard` scenario). Each point is a fresh ledger in its own directory.

import { availableParallelism } from 'node:os';
import type { Context, SubjectOutcome } from './bench-context.js';
import { ledgerRun, outcomeOf, scalingPointOf, type LedgerRun } from './ledger-run.js';
import type { CrossShardPoint, ScalingPoint } from './result.js';
import {
  crossShardHeadlineRatio,
  crossShardRatiosDefault,
  scalingShardsDefault,
} from './scenarios/index.js';
import type { OpenTarget } from './target.js';

/** Extra `--scaling` points next to another scenario get a short window. */
const scalingExtraWindowMsMax = 3000;
const scalingExtraWarmupMs = 500;

/** The `scaling` scenario: one run per shard count; the headline is the run at the context's
 * shard count, or the first. */
export async function scalingSweep(ctx: Context, openTarget: OpenTarget): Promise<SubjectOutcome> {
  const counts = ctx.options.scalingShards ?? scalingShardsDefault;
  const runs: { shards: number; ledger: LedgerRun }[] = [];
  for (const shards of counts)
    runs.push({
      shards,
      ledger: await ledgerRun(ctx, openTarget, {
        shards,
        crossShardRatio: 0,
        durationMs: ctx.durationMs,
        warmupMs: ctx.warmupMs,
        label: `${ctx.name}@${shards}`,
      }),
    });
  const headline =
    runs.find((entry) => entry.shards === ctx.shards) ?? (runs[0] as (typeof runs)[number]);
  return {
    crossShardSweep: [],
    openLoop: null,
    recovery: null,
    ...outcomeOf(headline.ledger, 0),
    scaling: runs.map((entry) => scalingPointOf(entry.shards, entry.ledger.run)),
  };
}

/** The standard scenario's shard sweep: 1, 2, 4 and the core count, so that anyone can see
 * whether sharding pays on their machine. */
function standardSweepShards(): number[] {
  return [...new Set([1, 2, 4, availableParallelism()])].sort((a, b) => a - b);
}

/** The short extra runs for the scaling chart: `--scaling`, or the standard sweep. */
export async function extraScaling(ctx: Context, openTarget: OpenTarget): Promise<ScalingPoint[]> {
  const points: ScalingPoint[] = [];
  for (const shards of ctx.options.scalingShards ??
    (ctx.scenario.name === 'standard' ? standardSweepShards() : [])) {
    const ledger = await ledgerRun(ctx, openTarget, {
      shards,
      crossShardRatio: ctx.scenario.crossShardRatio,
      durationMs: Math.min(ctx.durationMs, scalingExtraWindowMsMax),
      warmupMs: scalingExtraWarmupMs,
      label: `${ctx.name}@${shards}`,
    });
    points.push(scalingPointOf(shards, ledger.run));
  }
  return points;
}

/** The `cross-shard` scenario: one run per ratio; the headline is the run at the headline ratio,
 * or the first. */
export async function crossShardSweep(
  ctx: Context,
  openTarget: OpenTarget,
): Promise<SubjectOutcome> {
  const ratios = ctx.options.crossShardRatios ?? crossShardRatiosDefault;
  if (ratios.length === 0) throw new Error('cross-shard: no ratios');
  const points: CrossShardPoint[] = [];
  const runs: { ratio: number; ledger: LedgerRun }[] = [];
  for (const ratio of ratios) {
    const ledger = await ledgerRun(ctx, openTarget, {
      shards: ctx.shards,
      crossShardRatio: ratio,
      durationMs: ctx.durationMs,
      warmupMs: ctx.warmupMs,
      label: `${ctx.name}@${Math.round(ratio * 100)}%x`,
    });
    runs.push({ ratio, ledger });
    const { run } = ledger;
    points.push({
      crossShardRatio: ratio,
      crossShardTransfers: run.crossShardTransfers,
      tps: run.tps,
      p50Ms: run.latency.p50Ms,
      p99Ms: run.latency.p99Ms,
      transfers: run.transfers,
      durationS: run.durationS,
    });
  }
  const headline =
    runs.find((entry) => entry.ratio === crossShardHeadlineRatio) ??
    (runs[0] as (typeof runs)[number]);
  return {
    ...outcomeOf(headline.ledger, headline.ratio),
    scaling: await extraScaling(ctx, openTarget),
    crossShardSweep: points,
    openLoop: null,
    recovery: null,
  };
}
