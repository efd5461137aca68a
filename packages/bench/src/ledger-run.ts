// One closed-loop ledger run on a fresh ledger in its own temp directory, and the pieces of a
// `SubjectOutcome` and a `ScalingPoint` taken from it.

import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeWorkload, type Context, type SubjectOutcome } from './bench-context.js';
import type { RunResult } from './peers/peer.js';
import type { ScalingPoint } from './result.js';
import { runTarget, type TargetRunResult } from './targets/run-target.js';
import type { OpenTarget } from './target.js';

export interface LedgerRun {
  readonly run: TargetRunResult;
  readonly shardOf: (accountId: string) => number;
}

/** One closed-loop ledger run on a fresh ledger in its own directory. */
export async function ledgerRun(
  ctx: Context,
  openTarget: OpenTarget,
  spec: {
    shards: number;
    crossShardRatio: number;
    durationMs: number;
    warmupMs: number;
    label: string;
  },
): Promise<LedgerRun> {
  const dir = await mkdtemp(join(ctx.base, 'ledger-'));
  const target = await openTarget({ dir, shards: spec.shards, durability: ctx.durability });
  try {
    const shardOf = target.shardOf.bind(target);
    const workload = makeWorkload(ctx, {
      shardOf,
      crossShardRatio: spec.crossShardRatio,
      runId: String(ctx.seed),
    });
    const concurrency = ctx.options.targetConcurrency ?? ctx.scenario.callers ?? 2 * spec.shards;
    const run = await runTarget({
      workload,
      durability: ctx.durability,
      warmupMs: spec.warmupMs,
      durationMs: spec.durationMs,
      dir,
      progress: ctx.progress,
      name: spec.label,
      target,
      concurrency,
    });
    return { run, shardOf };
  } finally {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function scalingPointOf(shards: number, run: RunResult): ScalingPoint {
  return {
    shards,
    tps: run.tps,
    p50Ms: run.latency.p50Ms,
    p99Ms: run.latency.p99Ms,
    transfers: run.transfers,
    durationS: run.durationS,
  };
}

export function outcomeOf(
  ledger: LedgerRun,
  crossShardRatio: number,
): Pick<SubjectOutcome, 'run' | 'crossShardRatio' | 'crossShardTransfers' | 'shardOf'> {
  return {
    run: ledger.run,
    crossShardRatio,
    crossShardTransfers: ledger.run.crossShardTransfers,
    shardOf: ledger.shardOf,
  };
}
