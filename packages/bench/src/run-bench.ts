// One bench run: generate the workload once, run the ledger (when one is plugged in) and every
// peer on it in turn, each in a fresh temp directory, and collect a BenchResult.

import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureEnvironment } from './environment.js';
import { hashShardOf } from './hash.js';
import { lmdbLimitPeer } from './peers/lmdb-limit.js';
import { memoryLimitPeer } from './peers/memory-limit.js';
import { isSkipped, type Peer, type RunResult, type SkippedRun } from './peers/peer.js';
import { createPostgresPeer, type PostgresPeerOptions } from './peers/postgres.js';
import { sqlitePeer } from './peers/sqlite.js';
import { createProgress } from './progress.js';
import { entryOf, type BenchResult, type ScalingPoint } from './result.js';
import type { Scenario } from './scenarios/index.js';
import { runTarget } from './targets/run-target.js';
import type { Durability, LedgerTarget, OpenTarget } from './target.js';
import { batchSizeDefault, generateWorkload, type Workload } from './workload.js';

export const peerNames = ['sqlite', 'postgres', 'memory-limit', 'lmdb-limit'] as const;
export type PeerName = (typeof peerNames)[number];

/** Pre-generated transfers per second of window, so that a runner rarely runs out. */
const transfersPerSecondWithTarget = 1_000_000;
/** Peers-only: SQLite is the fastest runner that needs unique ids (~100,000/s here). Generating
 * costs ~1-2 us per transfer on this machine, so don't make more than needed. */
const transfersPerSecondPeersOnly = 250_000;

export interface BenchOptions {
  readonly scenario: Scenario;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly shards?: number;
  readonly durability: Durability;
  readonly seed: number;
  readonly batchSize?: number;
  /** Pre-generated transfer count; default from the duration. */
  readonly transfers?: number;
  readonly peers: readonly PeerName[];
  /** The ledger under test; absent = peers only (the first peer becomes the subject). */
  readonly openTarget?: OpenTarget;
  readonly targetName?: string;
  /** createTransfers calls in flight; default 2 per shard. */
  readonly targetConcurrency?: number;
  /** Also run the ledger with these shard counts (short windows) for the scaling chart. */
  readonly scalingShards?: readonly number[];
  readonly postgres?: PostgresPeerOptions;
  readonly progress: boolean;
  readonly command?: string;
}

function peerFor(name: PeerName, options: BenchOptions): Peer {
  switch (name) {
    case 'sqlite':
      return sqlitePeer;
    case 'postgres':
      return createPostgresPeer(options.postgres ?? {});
    case 'memory-limit':
      return memoryLimitPeer;
    case 'lmdb-limit':
      return lmdbLimitPeer;
  }
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const shards = options.shards ?? availableParallelism();
  const batchSize = options.batchSize ?? batchSizeDefault;
  const progress = createProgress({ enabled: options.progress });
  const base = await mkdtemp(join(tmpdir(), 'shardledger-bench-'));
  let target: LedgerTarget | null = null;
  try {
    const runs: (RunResult | SkippedRun)[] = [];
    const scaling: ScalingPoint[] = [];
    if (options.openTarget !== undefined) {
      target = await options.openTarget({ dir: join(base, 'ledger'), shards, durability: options.durability });
    }
    const workload = makeWorkload(options, { batchSize, shardOf: target === null ? hashShardOf(shards) : target.shardOf.bind(target) });
    const runOptions = { workload, durability: options.durability, warmupMs: options.warmupMs, durationMs: options.durationMs, progress };
    if (target !== null) {
      const name = options.targetName ?? 'shardledger';
      runs.push(await runTarget({ ...runOptions, dir: join(base, 'ledger'), name, target, concurrency: options.targetConcurrency ?? 2 * shards }));
      await target.close();
      target = null;
      for (const shardCount of options.scalingShards ?? []) scaling.push(await runScalingPoint(options, { base, shardCount, batchSize }));
    }
    for (const name of options.peers) {
      const dir = await mkdtemp(join(base, `${name}-`));
      try {
        const run = await peerFor(name, options).run({ ...runOptions, dir });
        if (isSkipped(run)) process.stderr.write(`${run.name.padEnd(12)} skipped: ${run.skipped}\n`);
        runs.push(run);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    return resultOf(options, { runs, scaling, workload, shards, batchSize, startedAt });
  } finally {
    if (target !== null) await target.close();
    await rm(base, { recursive: true, force: true });
  }
}

function makeWorkload(options: BenchOptions, extra: { batchSize: number; shardOf: (id: string) => number }): Workload {
  const perSecond = options.openTarget === undefined ? transfersPerSecondPeersOnly : transfersPerSecondWithTarget;
  const wanted = options.transfers ?? Math.ceil((perSecond * (options.durationMs + options.warmupMs)) / 1000);
  const transferCount = Math.ceil(wanted / extra.batchSize) * extra.batchSize;
  return generateWorkload({
    seed: options.seed,
    accountCount: options.scenario.accounts,
    transferCount,
    batchSize: extra.batchSize,
    crossShardRatio: options.scenario.crossShardRatio,
    shardOf: extra.shardOf,
    ...(options.scenario.hotExponent === null ? {} : { hotExponent: options.scenario.hotExponent }),
    runId: String(options.seed),
  });
}

async function runScalingPoint(options: BenchOptions, extra: { base: string; shardCount: number; batchSize: number }): Promise<ScalingPoint> {
  if (options.openTarget === undefined) throw new Error('scaling needs a target');
  const dir = join(extra.base, `scaling-${extra.shardCount}`);
  const target = await options.openTarget({ dir, shards: extra.shardCount, durability: options.durability });
  try {
    const durationMs = Math.min(options.durationMs, 3000);
    const workload = makeWorkload({ ...options, durationMs, warmupMs: 500 }, { batchSize: extra.batchSize, shardOf: target.shardOf.bind(target) });
    const run = await runTarget({ workload, durability: options.durability, warmupMs: 500, durationMs, dir, progress: createProgress({ enabled: options.progress }), name: `${options.targetName ?? 'shardledger'}@${extra.shardCount}`, target, concurrency: 2 * extra.shardCount });
    return { shards: extra.shardCount, tps: run.tps };
  } finally {
    await target.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Collected {
  readonly runs: readonly (RunResult | SkippedRun)[];
  readonly scaling: readonly ScalingPoint[];
  readonly workload: Workload;
  readonly shards: number;
  readonly batchSize: number;
  readonly startedAt: string;
}

function resultOf(options: BenchOptions, collected: Collected): BenchResult {
  const subject = collected.runs.find((run): run is RunResult => !isSkipped(run));
  if (subject === undefined) throw new Error('every runner was skipped: nothing to report');
  return {
    scenario: options.scenario.name,
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
    shards: collected.shards,
    accounts: options.scenario.accounts,
    durability: options.durability,
    batchSize: collected.batchSize,
    crossShardRatio: options.scenario.crossShardRatio,
    crossShardTransfers: collected.workload.crossShardCount,
    hotExponent: options.scenario.hotExponent,
    seed: options.seed,
    peers: collected.runs.filter((run) => run !== subject).map((run) => entryOf(run, subject.tps)),
    scaling: collected.scaling,
    environment: captureEnvironment({ batchSize: collected.batchSize }),
    command: options.command ?? '',
    startedAt: collected.startedAt,
  };
}
