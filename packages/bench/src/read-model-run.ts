// The `read-model` scenario's driver (see scenarios/read-model.ts): closed-loop pairs without and
// with a ReadModel following the logs, then open loops at half the peak with and without it. Each
// run has a fresh ledger in its own directory. The first closed-loop run with the read model and
// the open loop check, after catching up, that the projection's totals equal the money the run
// moved; later rounds close the model without catching up (the backlog a peak leaves takes tens
// of seconds to project here, and more, shorter rounds beat a noisy machine better).

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Ledger, ReadModel } from '@shardledger/shard-router';
import { planOpenLoop, runOpenLoop } from './open-loop.js';
import { assertConserved, type RunResult } from './peers/peer.js';
import type { Progress } from './progress.js';
import type { ReadModelLagTry, ReadModelSummary } from './result.js';
import { readModelKeepUpStepsMax, readModelLagTargetMs } from './scenarios/read-model.js';
import { LatencyRecorder, medianOf, summarizeLatencies, type LatencySummary } from './stats.js';
import {
  balanceTotals,
  createWorkloadAccounts,
  runTarget,
  type TargetRunResult,
} from './targets/run-target.js';
import { ledgerTarget } from './targets/shardledger.js';
import type { Durability, LedgerTarget, TransferInput } from './target.js';
import { transfersOf, type Workload } from './workload.js';

export interface ReadModelRunSpec {
  readonly base: string;
  readonly shards: number;
  readonly durability: Durability;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly rounds: number;
  readonly lagBatchSize: number;
  /** Offered rate of the open loops; default half the median closed-loop peak without the model. */
  readonly offeredTps?: number;
  readonly concurrency?: number;
  /** The lag target (default readModelLagTargetMs) and the halvings of the offered rate tried
   * when the lag misses it (default readModelKeepUpStepsMax). */
  readonly lagTargetMs?: number;
  readonly keepUpStepsMax?: number;
  readonly progress: Progress;
  readonly name: string;
  /** The scenario's workload for a ledger partitioned by `shardOf`. */
  makeWorkload(spec: {
    shardOf: (id: string) => number;
    runId: string;
    batchSize?: number;
  }): Workload;
}

export interface ReadModelRunOutcome {
  /** The read-model run of the median round (the headline), and its pair without the model. */
  readonly withModel: RunResult;
  readonly withoutModel: RunResult;
  readonly summary: ReadModelSummary;
}

/** Catch-up after a run and the final wait for the lag run's last call: generous, they only fail a
 * projector that stopped. */
const catchUpTimeoutMs = 600_000;

interface Opened {
  readonly dir: string;
  readonly ledger: Ledger;
  readonly model: ReadModel | null;
  readonly target: LedgerTarget;
}

async function openLedger(spec: ReadModelRunSpec, withModel: boolean): Promise<Opened> {
  const dir = await mkdtemp(join(spec.base, withModel ? 'rm-on-' : 'rm-off-'));
  const ledger = await Ledger.open({ dir, shards: spec.shards, durability: spec.durability });
  // Default options: it follows the logs from the start (account creation included), its worker
  // at niceness 19.
  const model = withModel
    ? await ReadModel.open({ ledger, path: join(dir, 'read-model.sqlite') })
    : null;
  return { dir, ledger, model, target: ledgerTarget(ledger) };
}

async function closeLedger(opened: Opened): Promise<void> {
  await opened.model?.close();
  await opened.ledger.close();
  await rm(opened.dir, { recursive: true, force: true });
}

/** Catches the model up and checks its totals against the ledger's balance movement. Returns the
 * catch-up time and the events it projected meanwhile (the backlog when it started). */
async function catchUpAndCheck(
  model: ReadModel,
  label: string,
  checks: { debitsTotal: bigint; creditsTotal: bigint },
): Promise<{ catchUpMs: number; catchUpEvents: number }> {
  const startMs = performance.now();
  const backlog = await model.lag();
  await model.catchUp({ timeoutMs: catchUpTimeoutMs });
  const catchUpMs = performance.now() - startMs;
  const catchUpEvents = backlog.reduce((sum, shard) => sum + shard.lagEvents, 0);
  const totals = model.currencyTotals().totals;
  const debits = totals.reduce((sum, row) => sum + row.debitsPosted, 0n);
  const credits = totals.reduce((sum, row) => sum + row.creditsPosted, 0n);
  if (debits !== checks.debitsTotal || credits !== checks.creditsTotal) {
    throw new Error(
      `${label}: the read model's totals (${debits}/${credits}) differ from the ledger's (${checks.debitsTotal}/${checks.creditsTotal})`,
    );
  }
  return { catchUpMs, catchUpEvents };
}

async function closedLoop(
  spec: ReadModelRunSpec,
  withModel: boolean,
  round: number,
): Promise<{ run: TargetRunResult; catchUp: { catchUpMs: number; catchUpEvents: number } | null }> {
  const opened = await openLedger(spec, withModel);
  try {
    const label = `${spec.name}${withModel ? '+rm' : ''} #${round + 1}`;
    const model = opened.model;
    const workload = spec.makeWorkload({
      shardOf: opened.target.shardOf.bind(opened.target),
      runId: `${round}`,
    });
    const run = await runTarget({
      workload,
      durability: spec.durability,
      warmupMs: spec.warmupMs,
      durationMs: spec.durationMs,
      dir: opened.dir,
      progress: spec.progress,
      name: label,
      target: opened.target,
      concurrency: spec.concurrency ?? 2 * spec.shards,
      // The first round measures the catch-up with the writers idle: the projection stops with
      // the window, so that it does not catch up while verify() reads the logs.
      ...(model !== null && round === 0 ? { onWindowEnd: () => model.pause() } : {}),
    });
    const catchUp =
      model === null || run.checks === null || round > 0
        ? null
        : await catchUpAndCheck(model, label, run.checks);
    return { run, catchUp };
  } finally {
    await closeLedger(opened);
  }
}

interface OpenLoopOutcome {
  readonly achievedTps: number;
  readonly writeLatency: LatencySummary;
  readonly lag: LatencySummary | null;
  readonly saturated: boolean;
}

/** An open loop at `offeredTps`; with the model, each call's lag: from its acknowledgement until
 * the projection reaches every shard's last sequence as of then (a bound that may include a few
 * later writes, so the figure errs high). The wait does not hurry the projector
 * (pollNow: false). */
async function openLoop(
  spec: ReadModelRunSpec,
  withModel: boolean,
  offeredTps: number,
): Promise<OpenLoopOutcome> {
  const opened = await openLedger(spec, withModel);
  try {
    const { ledger, model, target } = opened;
    const label = `${spec.name}${withModel ? '+rm' : ''} open`;
    const workload = spec.makeWorkload({
      shardOf: target.shardOf.bind(target),
      runId: 'open',
      batchSize: spec.lagBatchSize,
    });
    await createWorkloadAccounts(target, workload);
    if (model !== null) await model.catchUp({ timeoutMs: catchUpTimeoutMs });
    const lags = new LatencyRecorder();
    const waits: Promise<void>[] = [];
    let appliedCount = 0;
    let appliedAmount = 0n;
    const open = await runOpenLoop({
      target,
      plan: planOpenLoop({ offeredTps, batchSize: spec.lagBatchSize, durationMs: spec.durationMs }),
      batchFor: (index) => transfersOf(workload, workload.batch(index)),
      onResults(batch: readonly TransferInput[], results) {
        const ackedMs = performance.now();
        results.forEach((result, item) => {
          if (result.status !== 'ok') return;
          appliedCount++;
          appliedAmount += (batch[item] as TransferInput).amount;
        });
        if (model === null) return;
        waits.push(
          ledger
            .info()
            .then((info) =>
              model.waitFor(
                info.shardInfo.map((shard, index) => ({
                  shard: index,
                  sequence: shard.lastSequence,
                })),
                { timeoutMs: catchUpTimeoutMs, pollNow: false },
              ),
            )
            .then(() => lags.record(performance.now() - ackedMs)),
        );
      },
      label,
      progress: spec.progress,
    });
    await Promise.all(waits);
    const checks = { appliedCount, ...(await balanceTotals(target, workload)) };
    assertConserved(label, checks, appliedAmount);
    if (model !== null) await catchUpAndCheck(model, label, checks);
    return {
      achievedTps: open.achievedTps,
      writeLatency: open.latency,
      lag: model === null ? null : summarizeLatencies(lags.values()),
      saturated: open.saturated,
    };
  } finally {
    await closeLedger(opened);
  }
}

/** One round's closed-loop pair: the run without the read model and the run with it. */
interface RoundPair {
  readonly without: TargetRunResult;
  readonly with: TargetRunResult;
  readonly catchUp: { catchUpMs: number; catchUpEvents: number } | null;
}

/** The open loops at the offered rate, with and without the read model. */
interface OpenLoops {
  readonly withModel: OpenLoopOutcome;
  readonly withoutModel: OpenLoopOutcome;
}

/** The keep-up search's tries and the rate found (null when none was under the target). */
interface KeepUp {
  readonly lagTargetMs: number;
  readonly keepUpTries: ReadModelLagTry[];
  readonly keepUpTps: number | null;
}

export async function runReadModel(spec: ReadModelRunSpec): Promise<ReadModelRunOutcome> {
  if (!Number.isInteger(spec.rounds) || spec.rounds < 1)
    throw new Error(`read-model: rounds must be an integer >= 1, got ${spec.rounds}`);
  const loadAverageStart = loadavg()[0] as number;
  const pairs = await closedLoopPairs(spec);
  const drops = pairs.map((pair) => (1 - pair.with.tps / pair.without.tps) * 100);
  const peakTps = medianOf(pairs.map((pair) => pair.without.tps));
  const offeredTps = spec.offeredTps ?? peakTps / 2;
  const withModel = await openLoop(spec, true, offeredTps);
  const withoutModel = await openLoop(spec, false, offeredTps);
  const keepUp = await keepUpSearch(spec, offeredTps, withModel.lag as LatencySummary);
  const headline =
    pairs.find((_pair, index) => drops[index] === medianOf(drops)) ??
    (pairs[0] as (typeof pairs)[number]);
  const summary = summaryOf(spec, {
    pairs,
    drops,
    peakTps,
    offeredTps,
    loops: { withModel, withoutModel },
    keepUp,
    loadAverageStart,
  });
  const named = (run: RunResult, name: string, method: string): RunResult => ({
    ...run,
    name,
    method: `${method}; ${run.method}`,
  });
  return {
    withModel: named(
      headline.with,
      `${spec.name}+read-model`,
      'a ReadModel follows the logs (projector worker at niceness 19), caught up and its totals checked after the window',
    ),
    withoutModel: named(
      headline.without,
      `${spec.name} (read model off)`,
      'the same run without a read model, in the same round',
    ),
    summary,
  };
}

/** The closed-loop pairs, one per round. */
async function closedLoopPairs(spec: ReadModelRunSpec): Promise<RoundPair[]> {
  const pairs: RoundPair[] = [];
  for (let round = 0; round < spec.rounds; round++) {
    // Swap the order every round: a machine getting busier or quieter then favours neither side.
    const withFirst = round % 2 === 1;
    const first = await closedLoop(spec, withFirst, round);
    const second = await closedLoop(spec, !withFirst, round);
    const withRun = withFirst ? first : second;
    const withoutRun = withFirst ? second : first;
    pairs.push({ without: withoutRun.run, with: withRun.run, catchUp: withRun.catchUp });
  }
  return pairs;
}

/** The search for the rate the read model keeps up with: the same open loop at half the rate,
 * then a quarter..., each on a fresh ledger, until the lag's max is under the target. */
async function keepUpSearch(
  spec: ReadModelRunSpec,
  offeredTps: number,
  lagAtOffered: LatencySummary,
): Promise<KeepUp> {
  const keepUpTries: ReadModelLagTry[] = [];
  const lagTargetMs = spec.lagTargetMs ?? readModelLagTargetMs;
  let keepUpTps: number | null = lagAtOffered.maxMs < lagTargetMs ? offeredTps : null;
  const stepsMax = spec.keepUpStepsMax ?? readModelKeepUpStepsMax;
  for (let step = 1; keepUpTps === null && step <= stepsMax; step++) {
    const rate = offeredTps / 2 ** step;
    const outcome = await openLoop(spec, true, rate);
    const lag = outcome.lag as LatencySummary;
    keepUpTries.push({
      offeredTps: rate,
      achievedTps: outcome.achievedTps,
      lagCount: lag.count,
      lagP50Ms: lag.p50Ms,
      lagP99Ms: lag.p99Ms,
      lagMaxMs: lag.maxMs,
    });
    if (lag.maxMs < lagTargetMs) keepUpTps = rate;
  }
  return { lagTargetMs, keepUpTries, keepUpTps };
}

function summaryOf(
  spec: ReadModelRunSpec,
  collected: {
    pairs: readonly RoundPair[];
    drops: readonly number[];
    peakTps: number;
    offeredTps: number;
    loops: OpenLoops;
    keepUp: KeepUp;
    loadAverageStart: number;
  },
): ReadModelSummary {
  const { pairs, drops, loops, keepUp } = collected;
  const { withModel, withoutModel } = loops;
  const lag = withModel.lag as LatencySummary;
  return {
    rounds: pairs.map((pair, index) => ({
      withoutTps: pair.without.tps,
      withTps: pair.with.tps,
      dropPercent: drops[index] as number,
      catchUpMs: pair.catchUp?.catchUpMs ?? null,
      catchUpEvents: pair.catchUp?.catchUpEvents ?? null,
      withFirst: index % 2 === 1,
    })),
    dropPercentMedian: medianOf(drops),
    peakTps: collected.peakTps,
    offeredTps: collected.offeredTps,
    peakDerived: spec.offeredTps === undefined,
    lagBatchSize: spec.lagBatchSize,
    lagCount: lag.count,
    lagP50Ms: lag.p50Ms,
    lagP99Ms: lag.p99Ms,
    lagMaxMs: lag.maxMs,
    achievedTpsWith: withModel.achievedTps,
    achievedTpsWithout: withoutModel.achievedTps,
    writeP50MsWith: withModel.writeLatency.p50Ms,
    writeP99MsWith: withModel.writeLatency.p99Ms,
    writeP50MsWithout: withoutModel.writeLatency.p50Ms,
    writeP99MsWithout: withoutModel.writeLatency.p99Ms,
    saturated: withModel.saturated || withoutModel.saturated,
    lagTargetMs: keepUp.lagTargetMs,
    keepUpTries: keepUp.keepUpTries,
    keepUpTps: keepUp.keepUpTps,
    loadAverageStart: collected.loadAverageStart,
    loadAverageEnd: loadavg()[0] as number,
  };
}
