// The `latency` scenario's subject run: a closed-loop peak on the ledger (unless the offered rate
// is given), then an open loop at a fixed offered rate on the same ledger (open-loop.ts), with
// the money checks and verify() after it.

import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeWorkload, type Context, type SubjectOutcome } from './bench-context.js';
import { planOpenLoop, runOpenLoop, type OpenLoopPlan, type OpenLoopResult } from './open-loop.js';
import { assertConserved, type RunChecks, type RunResult } from './peers/peer.js';
import type { OpenLoopSummary } from './result.js';
import { latencyOfferedShareDefault, latencyPeakWindowMsMax } from './scenarios/index.js';
import { balanceTotals, createWorkloadAccounts, runTarget } from './targets/run-target.js';
import type { LedgerTarget, OpenTarget, TransferInput } from './target.js';
import { transfersOf } from './workload.js';

/** The ledger the latency run works on, with its partition function and directory. */
interface LatencyLedger {
  readonly target: LedgerTarget;
  readonly shardOf: (accountId: string) => number;
  readonly dir: string;
}

/** What the open loop applied, checked against the balances it moved. */
interface OpenLoopOutcome {
  readonly open: OpenLoopResult;
  readonly checks: RunChecks;
}

/** Closed-loop peak, then open loop at a fixed offered rate on the same ledger. */
export async function latencyRun(ctx: Context, openTarget: OpenTarget): Promise<SubjectOutcome> {
  const dir = await mkdtemp(join(ctx.base, 'ledger-'));
  const target = await openTarget({ dir, shards: ctx.shards, durability: ctx.durability });
  try {
    const ledger: LatencyLedger = { target, shardOf: target.shardOf.bind(target), dir };
    const peakTps = await peakRun(ctx, ledger);
    const offeredTps = ctx.options.offeredTps ?? (peakTps as number) * latencyOfferedShareDefault;
    const plan = planOpenLoop({ offeredTps, batchSize: ctx.batchSize, durationMs: ctx.durationMs });
    const outcome = await checkedOpenLoop(ctx, ledger, plan);
    const openLoop: OpenLoopSummary = {
      offeredTps,
      peakTps,
      batchSize: plan.batchSize,
      intervalMs: plan.intervalMs,
      sends: outcome.open.sent,
      uncorrectedP50Ms: outcome.open.uncorrected.p50Ms,
      uncorrectedP99Ms: outcome.open.uncorrected.p99Ms,
      saturated: outcome.open.saturated,
    };
    return {
      run: openLoopRunResult(ctx, openLoop, outcome),
      crossShardRatio: 0,
      crossShardTransfers: 0,
      shardOf: ledger.shardOf,
      scaling: [],
      crossShardSweep: [],
      openLoop,
      recovery: null,
    };
  } finally {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The closed-loop peak in transfers/s, or null when the offered rate is given (then only the
 * workload's accounts are created). */
async function peakRun(ctx: Context, ledger: LatencyLedger): Promise<number | null> {
  const { target, shardOf, dir } = ledger;
  if (ctx.options.offeredTps !== undefined) {
    await createWorkloadAccounts(
      target,
      makeWorkload(ctx, { shardOf, crossShardRatio: 0, runId: `${ctx.seed}p` }),
    );
    return null;
  }
  const peakWorkload = makeWorkload(ctx, {
    shardOf,
    crossShardRatio: 0,
    runId: `${ctx.seed}p`,
  });
  const peak = await runTarget({
    workload: peakWorkload,
    durability: ctx.durability,
    warmupMs: ctx.warmupMs,
    durationMs: Math.min(ctx.durationMs, latencyPeakWindowMsMax),
    dir,
    progress: ctx.progress,
    name: `${ctx.name} peak`,
    target,
    concurrency: ctx.options.targetConcurrency ?? 2 * ctx.shards,
  });
  return peak.tps;
}

/** The open loop, then the money checks on the balances it moved and a clean verify(). */
async function checkedOpenLoop(
  ctx: Context,
  ledger: LatencyLedger,
  plan: OpenLoopPlan,
): Promise<OpenLoopOutcome> {
  const { target, shardOf } = ledger;
  // The open loop's ids sort after the peak run's ('p' < 'r'), as a client's time-ordered ids
  // would: ids below the greatest one stored are not provably new, and each then costs the
  // shard an index lookup (the general path instead of the plain-transfer lane).
  const workload = makeWorkload(ctx, { shardOf, crossShardRatio: 0, runId: `${ctx.seed}r` });
  const before = await balanceTotals(target, workload);
  let appliedCount = 0;
  let appliedAmount = 0n;
  const open = await runOpenLoop({
    target,
    plan,
    batchFor: (index) => transfersOf(workload, workload.batch(index)),
    onResults(batch: readonly TransferInput[], results) {
      results.forEach((result, item) => {
        if (result.status !== 'ok') return;
        appliedCount++;
        appliedAmount += (batch[item] as TransferInput).amount;
      });
    },
    label: ctx.name,
    progress: ctx.progress,
  });
  const after = await balanceTotals(target, workload);
  const checks: RunChecks = {
    appliedCount,
    debitsTotal: after.debitsTotal - before.debitsTotal,
    creditsTotal: after.creditsTotal - before.creditsTotal,
  };
  assertConserved(ctx.name, checks, appliedAmount);
  const report = await target.verify();
  if (!report.ok)
    throw new Error(
      `${ctx.name}: verify() found ${report.violations.length} violations after the open-loop run`,
    );
  return { open, checks };
}

/** The open loop as the subject's run: figures from the scheduled send times. */
function openLoopRunResult(
  ctx: Context,
  openLoop: OpenLoopSummary,
  outcome: OpenLoopOutcome,
): RunResult {
  const { open, checks } = outcome;
  const { offeredTps, peakTps } = openLoop;
  return {
    name: ctx.name,
    method: `open loop: a createTransfers of ${openLoop.batchSize} every ${openLoop.intervalMs.toFixed(2)} ms (${Math.round(offeredTps).toLocaleString('en-US')} transfers/s offered${peakTps === null ? '' : `, half the closed-loop peak of ${Math.round(peakTps).toLocaleString('en-US')}/s`}), latency from the scheduled send time, verify() clean${open.saturated ? '; SATURATED: the in-flight bound was hit' : ''}`,
    checks,
    transfers: open.transfers,
    warmupTransfers: 0,
    durationS: open.durationS,
    tps: open.achievedTps,
    latency: open.latency,
    tpsPerSecond: [],
    exhausted: false,
  };
}
