// One bench run: the ledger on the scenario's workload (one run, or one per cross-shard ratio or
// shard count, or the open-loop latency run, or the kill-and-reopen recovery run; subject-run.ts),
// then every peer on the same workload, each in a fresh temp directory; collected into a
// BenchResult. Workloads are generated lazily from the seed (workload.ts), so setup costs no more
// than the runners consume.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { shardCountDefault } from '@shardledger/shard-router/internals';
import { join } from 'node:path';
import { makeWorkload, type Context, type SubjectOutcome } from './bench-context.js';
import { benchDefaults, peerNames, type BenchOptions, type PeerName } from './bench-options.js';
import { checkEngineOptions } from './engine-run.js';
import { captureEnvironment } from './environment.js';
import { hashShardOf } from './hash.js';
import { lmdbLimitPeer } from './peers/lmdb-limit.js';
import { memoryLimitPeer } from './peers/memory-limit.js';
import { isSkipped, type Peer, type RunResult, type SkippedRun } from './peers/peer.js';
import { createPostgresPeer } from './peers/postgres.js';
import { sqliteInsertPeer, sqlitePeer } from './peers/sqlite.js';
import { createProgress } from './progress.js';
import { entryOf, type BenchResult } from './result.js';
import { crossShardShardsDefault } from './scenarios/cross-shard.js';
import { scenarioNamed, type Scenario } from './scenarios/index.js';
import { runSubject } from './subject-run.js';
import { openShardledger } from './targets/shardledger.js';
import type { Workload } from './workload.js';

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
  const ctx = contextOf(options, scenario, { base, openTarget });
  try {
    const subject = openTarget === null ? null : await runSubject(ctx, openTarget);
    const shardOf = subject?.shardOf ?? hashShardOf(ctx.shards);
    const crossShardRatio = subject?.crossShardRatio ?? scenario.crossShardRatio;
    const workload = makeWorkload(ctx, { shardOf, crossShardRatio, runId: String(ctx.seed) });
    const runs: (RunResult | SkippedRun)[] =
      subject === null ? [] : [subject.run, ...(subject.extraRuns ?? [])];
    runs.push(...(await runPeers(ctx, workload)));
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

/** The shard count of a run that names none: the ledger's default, but two for the scenario
 * whose transfers cross shards. */
function shardsDefaultOf(scenario: Scenario): number {
  return scenario.kind === 'cross-shard' ? crossShardShardsDefault : shardCountDefault;
}

/** The options with every default filled in. */
function contextOf(
  options: BenchOptions,
  scenario: Scenario,
  spec: { base: string; openTarget: Context['openTarget'] },
): Context {
  return {
    options,
    scenario,
    base: spec.base,
    shards: scenario.kind === 'engine' ? 1 : (options.shards ?? shardsDefaultOf(scenario)),
    durability: options.durability ?? benchDefaults.durability,
    seed: options.seed ?? benchDefaults.seed,
    batchSize: options.batchSize ?? scenario.batchSize,
    durationMs: options.durationMs ?? benchDefaults.durationMs,
    warmupMs: options.warmupMs ?? benchDefaults.warmupMs,
    openTarget: spec.openTarget,
    name: options.targetName ?? 'shardledger',
    progress: createProgress({ enabled: options.progress ?? true }),
  };
}

/** The peers that run after the subject: the options' list, or all of them; none for recovery,
 * read-model and changes (the feed has no peer here). The engine scenario runs its peers itself, between its own runs. */
function peerListOf(ctx: Context): readonly PeerName[] {
  const { scenario, options } = ctx;
  if (scenario.kind === 'engine') return [];
  return (
    options.peers ??
    (scenario.kind === 'recovery' || scenario.kind === 'read-model' || scenario.kind === 'changes'
      ? []
      : peerNames)
  );
}

/** Each peer on the workload, one after the other, each in a fresh directory under the run's. */
async function runPeers(ctx: Context, workload: Workload): Promise<(RunResult | SkippedRun)[]> {
  const runs: (RunResult | SkippedRun)[] = [];
  for (const name of peerListOf(ctx)) {
    const dir = await mkdtemp(join(ctx.base, `${name}-`));
    try {
      const run = await peerFor(name, ctx.options).run({
        workload,
        durability: ctx.durability,
        warmupMs: ctx.warmupMs,
        durationMs: ctx.durationMs,
        dir,
        progress: ctx.progress,
      });
      if (isSkipped(run)) process.stderr.write(`${run.name.padEnd(12)} skipped: ${run.skipped}\n`);
      runs.push(run);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return runs;
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
