// One bench run: the ledger on the scenario's workload (one run, or one per cross-shard ratio or
// shard count, or the open-loop latency run, or the kill-and-reopen recovery run), then every
// peer on the same workload, each in a fresh temp directory; collected into a BenchResult.
// Workloads are generated lazily from the seed (workload.ts), so setup costs no more than the
// runners consume.

import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkEngineOptions,
  enginePeerNames,
  runEngineScenario,
  type EnginePeerName,
} from './engine-run.js';
import { captureEnvironment } from './environment.js';
import { hashShardOf } from './hash.js';
import { planOpenLoop, runOpenLoop } from './open-loop.js';
import { lmdbLimitPeer } from './peers/lmdb-limit.js';
import { memoryLimitPeer } from './peers/memory-limit.js';
import {
  assertConserved,
  isSkipped,
  type Peer,
  type RunResult,
  type SkippedRun,
} from './peers/peer.js';
import { createPostgresPeer, type PostgresPeerOptions } from './peers/postgres.js';
import { sqliteInsertPeer, sqlitePeer } from './peers/sqlite.js';
import { createProgress, type Progress } from './progress.js';
import { runReadModel } from './read-model-run.js';
import { runRecovery } from './recovery.js';
import {
  entryOf,
  type BenchResult,
  type CrossShardPoint,
  type EngineSummary,
  type OpenLoopSummary,
  type ReadModelSummary,
  type RecoverySummary,
  type ScalingPoint,
} from './result.js';
import {
  crossShardHeadlineRatio,
  crossShardRatiosDefault,
  engineInFlightDefault,
  engineRoundsDefault,
  latencyOfferedShareDefault,
  latencyPeakWindowMsMax,
  readModelLagBatchSizeDefault,
  readModelRoundsDefault,
  recoveryTransfersDefault,
  scalingShardsDefault,
  scenarioNamed,
  type Scenario,
} from './scenarios/index.js';
import {
  balanceTotals,
  createWorkloadAccounts,
  runTarget,
  type TargetRunResult,
} from './targets/run-target.js';
import { openShardledger } from './targets/shardledger.js';
import type { Durability, OpenTarget, TransferInput } from './target.js';
import { generateWorkload, transfersOf, type Workload } from './workload.js';

export const peerNames = [
  'sqlite',
  'sqlite-insert',
  'postgres',
  'postgres-per-transfer',
  'memory-limit',
  'lmdb-limit',
] as const;
export type PeerName = (typeof peerNames)[number];

/** Defaults of `runBench` (and of `shardledger bench`). */
export const benchDefaults = {
  durationMs: 10_000,
  warmupMs: 2_000,
  durability: 'strict',
  seed: 42,
} as const;
/** Extra `--scaling` points next to another scenario get a short window. */
const scalingExtraWindowMsMax = 3000;
const scalingExtraWarmupMs = 500;

export interface BenchOptions {
  /** A scenario or its name: standard | cross-shard | hot | accounts-1m | latency | recovery |
   * scaling | read-model | engine. */
  readonly scenario: Scenario | string;
  /** The ledger's measured window (default 10 s). Peers cap theirs: SQLite and sqlite-insert 5 s, PostgreSQL 3 s,
   * memory-limit and lmdb-limit 2 s (their rates are flat after a second). */
  readonly durationMs?: number;
  /** Warm-up before each window (default 2 s; peers cap it at 1 s or 0.5 s). */
  readonly warmupMs?: number;
  /** Shards (default: CPU count; `engine` runs one shard and takes no other count). */
  readonly shards?: number;
  readonly durability?: Durability;
  readonly seed?: number;
  /** Transfers per call; default the scenario's (8,190; 512 for latency). */
  readonly batchSize?: number;
  /** Caps the transfers a runner may send (default: open-ended, runners stop on time). */
  readonly transfers?: number;
  /** Default all five; none for `recovery` and `read-model`; `engine`: lmdb-limit, sqlite,
   * memory-limit (its default), postgres not supported. */
  readonly peers?: readonly PeerName[];
  /** The ledger under test; default Shardledger. null = peers only (the first peer is the subject). */
  readonly openTarget?: OpenTarget | null;
  readonly targetName?: string;
  /** createTransfers calls in flight; default 2 per shard. `engine`: submitEncoded calls (default 3). */
  readonly targetConcurrency?: number;
  /** `scaling`: the shard counts (default 1,2,4,8). Other scenarios: extra short runs for the chart. */
  readonly scalingShards?: readonly number[];
  /** `cross-shard`: the ratios (default 0, 0.1, 0.5, 1). */
  readonly crossShardRatios?: readonly number[];
  /** `latency`: offered transfers/s (default half the measured closed-loop peak). */
  readonly offeredTps?: number;
  /** `recovery`: acknowledged transfers in the log before the kill (default 200,000). */
  readonly recoveryTransfers?: number;
  /** `read-model`: closed-loop pairs without and with the read model (default 5). The open
   * loops' rate is `offeredTps` (default half the median peak without it). */
  readonly readModelRounds?: number;
  /** `read-model`: the lag target (default 1,000 ms) and how many halvings of the
   * offered rate the keep-up search tries when the lag misses it (default 3). */
  readonly readModelLagTargetMs?: number;
  readonly readModelKeepUpSteps?: number;
  /** `engine`: rounds of engine, lmdb-limit and SQLite runs (default 3); medians reported. */
  readonly engineRounds?: number;
  readonly postgres?: PostgresPeerOptions;
  /** Live progress line on stderr (default true). */
  readonly progress?: boolean;
  /** The command line that produced the result (goes into the JSON and the docs). */
  readonly command?: string;
}

interface Context {
  readonly options: BenchOptions;
  readonly scenario: Scenario;
  readonly base: string;
  readonly shards: number;
  readonly durability: Durability;
  readonly seed: number;
  readonly batchSize: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly openTarget: OpenTarget | null;
  readonly name: string;
  readonly progress: Progress;
}

/** What the subject's runs produced, before the peers. */
interface SubjectOutcome {
  readonly run: RunResult;
  readonly crossShardRatio: number;
  readonly crossShardTransfers: number;
  /** The partition function of the headline ledger, so that the peers run the same pairs. */
  readonly shardOf: (accountId: string) => number;
  readonly scaling: readonly ScalingPoint[];
  readonly crossShardSweep: readonly CrossShardPoint[];
  readonly openLoop: OpenLoopSummary | null;
  readonly recovery: RecoverySummary | null;
  readonly readModel?: ReadModelSummary;
  /** Runs shown next to the subject as peers (the read-model scenario's run without; the engine
   * scenario's peers, which it runs itself, interleaved with the engine). */
  readonly extraRuns?: readonly RunResult[];
  readonly engine?: EngineSummary;
}

function peerFor(name: PeerName, options: BenchOptions): Peer {
  switch (name) {
    case 'sqlite':
      return sqlitePeer;
    case 'sqlite-insert':
      return sqliteInsertPeer;
    case 'postgres':
      return createPostgresPeer(options.postgres ?? {}, 'batched');
    case 'postgres-per-transfer':
      return createPostgresPeer(options.postgres ?? {}, 'per-transfer');
    case 'memory-limit':
      return memoryLimitPeer;
    case 'lmdb-limit':
      return lmdbLimitPeer;
  }
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const wallStartMs = performance.now();
  const startedAt = new Date().toISOString();
  const scenario =
    typeof options.scenario === 'string' ? scenarioNamed(options.scenario) : options.scenario;
  const openTarget = options.openTarget === undefined ? openShardledger : options.openTarget;
  if (scenario.kind === 'engine') checkEngineOptions(options);
  const base = await mkdtemp(join(tmpdir(), 'shardledger-bench-'));
  const ctx: Context = {
    options,
    scenario,
    base,
    shards: scenario.kind === 'engine' ? 1 : (options.shards ?? availableParallelism()),
    durability: options.durability ?? benchDefaults.durability,
    seed: options.seed ?? benchDefaults.seed,
    batchSize: options.batchSize ?? scenario.batchSize,
    durationMs: options.durationMs ?? benchDefaults.durationMs,
    warmupMs: options.warmupMs ?? benchDefaults.warmupMs,
    openTarget,
    name: options.targetName ?? 'shardledger',
    progress: createProgress({ enabled: options.progress ?? true }),
  };
  try {
    const subject = openTarget === null ? null : await runSubject(ctx, openTarget);
    // The engine scenario runs its peers itself, between its own runs.
    const peerList =
      scenario.kind === 'engine'
        ? []
        : (options.peers ??
          (scenario.kind === 'recovery' || scenario.kind === 'read-model' ? [] : peerNames));
    const shardOf = subject?.shardOf ?? hashShardOf(ctx.shards);
    const crossShardRatio = subject?.crossShardRatio ?? scenario.crossShardRatio;
    const workload = makeWorkload(ctx, { shardOf, crossShardRatio, runId: String(ctx.seed) });
    const runs: (RunResult | SkippedRun)[] =
      subject === null ? [] : [subject.run, ...(subject.extraRuns ?? [])];
    for (const name of peerList) {
      const dir = await mkdtemp(join(base, `${name}-`));
      try {
        const run = await peerFor(name, options).run({
          workload,
          durability: ctx.durability,
          warmupMs: ctx.warmupMs,
          durationMs: ctx.durationMs,
          dir,
          progress: ctx.progress,
        });
        if (isSkipped(run))
          process.stderr.write(`${run.name.padEnd(12)} skipped: ${run.skipped}\n`);
        runs.push(run);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const crossShardTransfers = subject?.crossShardTransfers ?? 0;
    return resultOf(ctx, {
      runs,
      subject,
      crossShardRatio,
      crossShardTransfers,
      startedAt,
      wallS: (performance.now() - wallStartMs) / 1000,
    });
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

function makeWorkload(
  ctx: Context,
  spec: {
    shardOf: (id: string) => number;
    crossShardRatio: number;
    runId: string;
    batchSize?: number;
  },
): Workload {
  return generateWorkload({
    seed: ctx.seed,
    accountCount: ctx.scenario.accounts,
    ...(ctx.options.transfers === undefined ? {} : { transferCount: ctx.options.transfers }),
    batchSize: spec.batchSize ?? ctx.batchSize,
    pairs: ctx.scenario.pairs,
    ids: ctx.scenario.ids,
    ...(ctx.scenario.pairs === 'co-located' ? { crossShardRatio: spec.crossShardRatio } : {}),
    shardOf: spec.shardOf,
    ...(ctx.scenario.hotExponent === null ? {} : { hotExponent: ctx.scenario.hotExponent }),
    runId: spec.runId,
  });
}

interface LedgerRun {
  readonly run: TargetRunResult;
  readonly shardOf: (accountId: string) => number;
}

/** One closed-loop ledger run on a fresh ledger in its own directory. */
async function ledgerRun(
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

function scalingPointOf(shards: number, run: RunResult): ScalingPoint {
  return {
    shards,
    tps: run.tps,
    p50Ms: run.latency.p50Ms,
    p99Ms: run.latency.p99Ms,
    transfers: run.transfers,
    durationS: run.durationS,
  };
}

async function runSubject(ctx: Context, openTarget: OpenTarget): Promise<SubjectOutcome> {
  const { scenario } = ctx;
  const plain = {
    crossShardSweep: [],
    openLoop: null,
    recovery: null,
    scaling: [] as ScalingPoint[],
  };
  switch (scenario.kind) {
    case 'throughput': {
      const headline = await ledgerRun(ctx, openTarget, {
        shards: ctx.shards,
        crossShardRatio: scenario.crossShardRatio,
        durationMs: ctx.durationMs,
        warmupMs: ctx.warmupMs,
        label: ctx.name,
      });
      return {
        ...plain,
        ...outcomeOf(headline, scenario.crossShardRatio),
        scaling: await extraScaling(ctx, openTarget),
      };
    }
    case 'cross-shard':
      return crossShardSweep(ctx, openTarget);
    case 'scaling': {
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
        ...plain,
        ...outcomeOf(headline.ledger, 0),
        scaling: runs.map((entry) => scalingPointOf(entry.shards, entry.ledger.run)),
      };
    }
    case 'latency':
      return latencyRun(ctx, openTarget);
    case 'recovery':
      return recoveryRun(ctx, openTarget);
    case 'read-model':
      return readModelRun(ctx);
    case 'engine':
      return engineRun(ctx);
  }
}

/** Rounds of one ShardEngine alone and its durable peers, then the in-memory figures
 * (engine-run.ts). Always the real engine, whatever openTarget says. */
async function engineRun(ctx: Context): Promise<SubjectOutcome> {
  const outcome = await runEngineScenario({
    base: ctx.base,
    workload: makeWorkload(ctx, { shardOf: () => 0, crossShardRatio: 0, runId: String(ctx.seed) }),
    durability: ctx.durability,
    durationMs: ctx.durationMs,
    warmupMs: ctx.warmupMs,
    rounds: ctx.options.engineRounds ?? engineRoundsDefault,
    inFlight: ctx.options.targetConcurrency ?? engineInFlightDefault,
    peers: (ctx.options.peers ?? enginePeerNames) as readonly EnginePeerName[],
    progress: ctx.progress,
    name: 'shard-engine',
  });
  return {
    run: outcome.engine,
    extraRuns: outcome.peers,
    crossShardRatio: 0,
    crossShardTransfers: 0,
    shardOf: () => 0,
    scaling: [],
    crossShardSweep: [],
    openLoop: null,
    recovery: null,
    engine: outcome.summary,
  };
}

/** Pairs without and with the read model, then the lag at half the peak (read-model-run.ts).
 * Always the real ledger: the read model is Shardledger's. */
async function readModelRun(ctx: Context): Promise<SubjectOutcome> {
  const outcome = await runReadModel({
    base: ctx.base,
    shards: ctx.shards,
    durability: ctx.durability,
    durationMs: ctx.durationMs,
    warmupMs: ctx.warmupMs,
    rounds: ctx.options.readModelRounds ?? readModelRoundsDefault,
    lagBatchSize: readModelLagBatchSizeDefault,
    ...(ctx.options.offeredTps === undefined ? {} : { offeredTps: ctx.options.offeredTps }),
    ...(ctx.options.targetConcurrency === undefined
      ? {}
      : { concurrency: ctx.options.targetConcurrency }),
    ...(ctx.options.readModelLagTargetMs === undefined
      ? {}
      : { lagTargetMs: ctx.options.readModelLagTargetMs }),
    ...(ctx.options.readModelKeepUpSteps === undefined
      ? {}
      : { keepUpStepsMax: ctx.options.readModelKeepUpSteps }),
    progress: ctx.progress,
    name: ctx.name,
    makeWorkload: (spec) => makeWorkload(ctx, { ...spec, crossShardRatio: 0 }),
  });
  return {
    run: outcome.withModel,
    extraRuns: [outcome.withoutModel],
    crossShardRatio: 0,
    crossShardTransfers: 0,
    shardOf: hashShardOf(ctx.shards),
    scaling: [],
    crossShardSweep: [],
    openLoop: null,
    recovery: null,
    readModel: outcome.summary,
  };
}

function outcomeOf(
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

/** The standard scenario's shard sweep: 1, 2, 4 and the core count, so that anyone can see
 * whether sharding pays on their machine. */
function standardSweepShards(): number[] {
  return [...new Set([1, 2, 4, availableParallelism()])].sort((a, b) => a - b);
}

async function extraScaling(ctx: Context, openTarget: OpenTarget): Promise<ScalingPoint[]> {
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

async function crossShardSweep(ctx: Context, openTarget: OpenTarget): Promise<SubjectOutcome> {
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

/** Closed-loop peak, then open loop at a fixed offered rate on the same ledger. */
async function latencyRun(ctx: Context, openTarget: OpenTarget): Promise<SubjectOutcome> {
  const dir = await mkdtemp(join(ctx.base, 'ledger-'));
  const target = await openTarget({ dir, shards: ctx.shards, durability: ctx.durability });
  try {
    const shardOf = target.shardOf.bind(target);
    let peakTps: number | null = null;
    if (ctx.options.offeredTps === undefined) {
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
      peakTps = peak.tps;
    } else {
      await createWorkloadAccounts(
        target,
        makeWorkload(ctx, { shardOf, crossShardRatio: 0, runId: `${ctx.seed}p` }),
      );
    }
    const offeredTps = ctx.options.offeredTps ?? (peakTps as number) * latencyOfferedShareDefault;
    // The open loop's ids sort after the peak run's ('p' < 'r'), as a client's time-ordered ids
    // would: ids below the greatest one stored are not provably new, and each then costs the
    // shard an index lookup (the general path instead of the plain-transfer lane).
    const workload = makeWorkload(ctx, { shardOf, crossShardRatio: 0, runId: `${ctx.seed}r` });
    const plan = planOpenLoop({ offeredTps, batchSize: ctx.batchSize, durationMs: ctx.durationMs });
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
    assertConserved(
      ctx.name,
      {
        appliedCount,
        debitsTotal: after.debitsTotal - before.debitsTotal,
        creditsTotal: after.creditsTotal - before.creditsTotal,
      },
      appliedAmount,
    );
    const report = await target.verify();
    if (!report.ok)
      throw new Error(
        `${ctx.name}: verify() found ${report.violations.length} violations after the open-loop run`,
      );
    const run: RunResult = {
      name: ctx.name,
      method: `open loop: a createTransfers of ${plan.batchSize} every ${plan.intervalMs.toFixed(2)} ms (${Math.round(offeredTps).toLocaleString('en-US')} transfers/s offered${peakTps === null ? '' : `, half the closed-loop peak of ${Math.round(peakTps).toLocaleString('en-US')}/s`}), latency from the scheduled send time, verify() clean${open.saturated ? '; SATURATED: the in-flight bound was hit' : ''}`,
      checks: {
        appliedCount,
        debitsTotal: after.debitsTotal - before.debitsTotal,
        creditsTotal: after.creditsTotal - before.creditsTotal,
      },
      transfers: open.transfers,
      warmupTransfers: 0,
      durationS: open.durationS,
      tps: open.achievedTps,
      latency: open.latency,
      tpsPerSecond: [],
      exhausted: false,
    };
    const openLoop: OpenLoopSummary = {
      offeredTps,
      peakTps,
      batchSize: plan.batchSize,
      intervalMs: plan.intervalMs,
      sends: open.sent,
      uncorrectedP50Ms: open.uncorrected.p50Ms,
      uncorrectedP99Ms: open.uncorrected.p99Ms,
      saturated: open.saturated,
    };
    return {
      run,
      crossShardRatio: 0,
      crossShardTransfers: 0,
      shardOf,
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

async function recoveryRun(ctx: Context, openTarget: OpenTarget): Promise<SubjectOutcome> {
  const dir = join(ctx.base, 'recovery-ledger');
  const transfers = ctx.options.recoveryTransfers ?? recoveryTransfersDefault;
  process.stderr.write(
    `recovery     writing ${transfers.toLocaleString('en-US')} transfers in a child process, then SIGKILL...\n`,
  );
  const recovery = await runRecovery({
    dir,
    shards: ctx.shards,
    durability: ctx.durability,
    accounts: ctx.scenario.accounts,
    transfers,
    batchSize: ctx.batchSize,
    seed: ctx.seed,
    openTarget,
  });
  process.stderr.write(
    `recovery     Ledger.open ${recovery.openMs.toFixed(0)} ms, verify() ${recovery.verifyMs.toFixed(0)} ms, ${transfers.toLocaleString('en-US')}+ transfers in the log\n`,
  );
  const openMs = recovery.openMs;
  const run: RunResult = {
    name: ctx.name,
    method: `child process wrote ${recovery.transfersAcknowledged.toLocaleString('en-US')} acknowledged transfers in ${recovery.writeS.toFixed(1)} s and was SIGKILLed mid-write; tps = acknowledged transfers / Ledger.open time, latency columns = the Ledger.open time (one sample); verify() took ${recovery.verifyMs.toFixed(0)} ms, clean`,
    checks: null,
    transfers: recovery.transfersAcknowledged,
    warmupTransfers: 0,
    durationS: openMs / 1000,
    tps: recovery.recoveredTps,
    latency: {
      count: 1,
      p50Ms: openMs,
      p99Ms: openMs,
      p999Ms: openMs,
      maxMs: openMs,
      meanMs: openMs,
    },
    tpsPerSecond: [],
    exhausted: false,
  };
  return {
    run,
    crossShardRatio: 0,
    crossShardTransfers: 0,
    shardOf: hashShardOf(ctx.shards),
    scaling: [],
    crossShardSweep: [],
    openLoop: null,
    recovery,
  };
}

interface Collected {
  readonly runs: readonly (RunResult | SkippedRun)[];
  readonly subject: SubjectOutcome | null;
  readonly crossShardRatio: number;
  readonly crossShardTransfers: number;
  readonly startedAt: string;
  readonly wallS: number;
}

function resultOf(ctx: Context, collected: Collected): BenchResult {
  const subject = collected.runs.find((run): run is RunResult => !isSkipped(run));
  if (subject === undefined) throw new Error('every runner was skipped: nothing to report');
  return {
    scenario: ctx.scenario.name,
    subject: subject.name,
    tps: subject.tps,
    p50Ms: subject.latency.p50Ms,
    p99Ms: subject.latency.p99Ms,
    p999Ms: subject.latency.p999Ms,
    maxMs: subject.latency.maxMs,
    transfers: subject.transfers,
    durationS: subject.durationS,
    tpsPerSecond: subject.tpsPerSecond,
    method: subject.method,
    shards: ctx.shards,
    accounts: ctx.scenario.accounts,
    durability: ctx.durability,
    batchSize: ctx.batchSize,
    crossShardRatio: collected.crossShardRatio,
    crossShardTransfers: collected.crossShardTransfers,
    hotExponent: ctx.scenario.hotExponent,
    pairs: ctx.scenario.pairs,
    ids: ctx.scenario.ids,
    seed: ctx.seed,
    peers: collected.runs.filter((run) => run !== subject).map((run) => entryOf(run, subject.tps)),
    scaling: collected.subject?.scaling ?? [],
    crossShardSweep: collected.subject?.crossShardSweep ?? [],
    openLoop: collected.subject?.openLoop ?? null,
    recovery: collected.subject?.recovery ?? null,
    readModel: collected.subject?.readModel ?? null,
    engine: collected.subject?.engine ?? null,
    wallS: collected.wallS,
    environment: captureEnvironment({ batchSize: ctx.batchSize }),
    command: ctx.options.command ?? '',
    startedAt: collected.startedAt,
  };
}
