// The subject's runs for each scenario kind: the ledger under test (Shardledger unless the options
// name another target) measured the scenario's way, before the peers run on the same workload.

import { join } from 'node:path';
import { makeWorkload, type Context, type SubjectOutcome } from './bench-context.js';
import { runChanges } from './changes-run.js';
import { enginePeerNames, runEngineScenario, type EnginePeerName } from './engine-run.js';
import { hashShardOf } from './hash.js';
import { latencyRun } from './latency-run.js';
import { ledgerRun, outcomeOf } from './ledger-run.js';
import type { RunResult } from './peers/peer.js';
import { runReadModel } from './read-model-run.js';
import { runRecovery } from './recovery.js';
import {
  engineInFlightDefault,
  engineRoundsDefault,
  readModelLagBatchSizeDefault,
  readModelRoundsDefault,
  recoveryTransfersDefault,
} from './scenarios/index.js';
import { crossShardSweep, extraScaling, scalingSweep } from './sweeps.js';
import type { OpenTarget } from './target.js';

export async function runSubject(ctx: Context, openTarget: OpenTarget): Promise<SubjectOutcome> {
  switch (ctx.scenario.kind) {
    case 'throughput':
      return throughputRun(ctx, openTarget);
    case 'cross-shard':
      return crossShardSweep(ctx, openTarget);
    case 'scaling':
      return scalingSweep(ctx, openTarget);
    case 'latency':
      return latencyRun(ctx, openTarget);
    case 'recovery':
      return recoveryRun(ctx, openTarget);
    case 'read-model':
      return readModelRun(ctx);
    case 'engine':
      return engineRun(ctx);
    case 'changes':
      return singleRunOutcome(await runChanges(ctx), hashShardOf(ctx.shards));
  }
}

/** One closed-loop run at the scenario's shard count and cross-shard ratio, plus the extra
 * scaling points. */
async function throughputRun(ctx: Context, openTarget: OpenTarget): Promise<SubjectOutcome> {
  const { scenario } = ctx;
  const headline = await ledgerRun(ctx, openTarget, {
    shards: ctx.shards,
    crossShardRatio: scenario.crossShardRatio,
    durationMs: ctx.durationMs,
    warmupMs: ctx.warmupMs,
    label: ctx.name,
  });
  return {
    crossShardSweep: [],
    openLoop: null,
    recovery: null,
    ...outcomeOf(headline, scenario.crossShardRatio),
    scaling: await extraScaling(ctx, openTarget),
  };
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
    ...singleRunOutcome(outcome.engine, () => 0),
    extraRuns: outcome.peers,
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
    ...singleRunOutcome(outcome.withModel, hashShardOf(ctx.shards)),
    extraRuns: [outcome.withoutModel],
    readModel: outcome.summary,
  };
}

/** A child process writes to the ledger and is killed mid-write; the subject run is the time
 * Ledger.open takes to recover from the log (recovery.ts). */
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
  return { ...singleRunOutcome(run, hashShardOf(ctx.shards)), recovery };
}

/** The outcome of a scenario measured without sweeps, an open loop or cross-shard transfers (the
 * engine, read-model, recovery and changes scenarios): its run and its partition function. */
function singleRunOutcome(run: RunResult, shardOf: (accountId: string) => number): SubjectOutcome {
  return {
    run,
    crossShardRatio: 0,
    crossShardTransfers: 0,
    shardOf,
    scaling: [],
    crossShardSweep: [],
    openLoop: null,
    recovery: null,
  };
}
