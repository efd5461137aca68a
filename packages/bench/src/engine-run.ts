// The `engine` scenario's driver (see scenarios/engine.ts): the input encoded once, then rounds
// of the engine, lmdb-limit and SQLite, each in a fresh directory, the order rotated every round
// so that a machine getting busier or quieter favours no runner; then the in-memory figures
// (memory-limit, the engine's kernel) once. The headline runs are each runner's median round.

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { lmdbLimitPeer } from './peers/lmdb-limit.js';
import { memoryLimitPeer } from './peers/memory-limit.js';
import { isSkipped, type Peer, type RunResult } from './peers/peer.js';
import { sqlitePeer } from './peers/sqlite.js';
import type { Progress } from './progress.js';
import { medianOf } from './stats.js';
import type { EngineRound, EngineSummary } from './result.js';
import {
  engineDurableFloorTps,
  engineDurableTargetTps,
  engineMemoryTargetTps,
} from './scenarios/index.js';
import {
  encodeEngineInput,
  runEngine,
  runEngineKernel,
  type EngineInput,
  type EngineRunResult,
} from './targets/shard-engine.js';
import type { Durability } from './target.js';
import type { Workload } from './workload.js';

/** The peers the engine scenario knows: two durable ones in every round, one in memory once. */
export const enginePeerNames = ['lmdb-limit', 'sqlite', 'memory-limit'] as const;
export type EnginePeerName = (typeof enginePeerNames)[number];

/** Input is encoded for this rate over warm-up plus window (the durable target): an
 * engine faster than that runs out, and its window ends early (reported as such). */
const inputRateCeilingTps = engineDurableTargetTps;
/** A bound on the input kept in memory (about 52 bytes a transfer encoded): about 1.2 GB. */
const inputTransferCountMax = 24_000_000;

export interface EngineScenarioSpec {
  readonly base: string;
  readonly workload: Workload;
  readonly durability: Durability;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly rounds: number;
  readonly inFlight: number;
  readonly peers: readonly EnginePeerName[];
  readonly progress: Progress;
  readonly name: string;
}

export interface EngineScenarioOutcome {
  /** The engine's median round (the headline), then each peer's median round, then the
   * in-memory runs. */
  readonly engine: RunResult;
  readonly peers: readonly RunResult[];
  readonly summary: EngineSummary;
}

/** Refuses runBench options the engine scenario cannot honour (before anything runs). */
export function checkEngineOptions(options: {
  readonly openTarget?: unknown;
  readonly shards?: number;
  readonly peers?: readonly string[];
}): void {
  if (options.openTarget === null)
    throw new Error(
      'engine: it measures the storage engine; peers only (no ledger) is not a run of it',
    );
  if (options.shards !== undefined && options.shards !== 1)
    throw new Error(`engine: one shard, no threads; got --shards ${options.shards}`);
  const unknown = (options.peers ?? []).filter(
    (name) => !(enginePeerNames as readonly string[]).includes(name),
  );
  if (unknown.length > 0)
    throw new Error(
      `engine: its peers are ${enginePeerNames.join(', ')}; not ${unknown.join(', ')}`,
    );
}

function medianOrNull(values: readonly (number | null)[]): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : medianOf(present);
}

/** The run whose tps is the median of the runs'. */
function medianRun<T extends RunResult>(runs: readonly T[]): T {
  const tps = medianOf(runs.map((run) => run.tps));
  return runs.find((run) => run.tps === tps) as T;
}

function durablePeer(name: 'lmdb-limit' | 'sqlite'): Peer {
  return name === 'lmdb-limit' ? lmdbLimitPeer : sqlitePeer;
}

async function runPeer(spec: EngineScenarioSpec, peer: Peer): Promise<RunResult> {
  const dir = await mkdtemp(join(spec.base, `${peer.name}-`));
  try {
    const run = await peer.run({
      workload: spec.workload,
      durability: spec.durability,
      warmupMs: spec.warmupMs,
      durationMs: spec.durationMs,
      dir,
      progress: spec.progress,
    });
    if (isSkipped(run)) throw new Error(`engine: ${run.name} was skipped: ${run.skipped}`);
    return run;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface RoundRuns {
  readonly order: readonly string[];
  readonly engine: EngineRunResult;
  readonly lmdbLimit: RunResult | null;
  readonly sqlite: RunResult | null;
}

function planBatches(spec: EngineScenarioSpec): number {
  const planned =
    Math.ceil(
      (((spec.warmupMs + spec.durationMs) / 1000) * inputRateCeilingTps) / spec.workload.batchSize,
    ) + spec.inFlight;
  return Math.max(
    spec.inFlight,
    Math.min(
      planned,
      spec.workload.batchCount,
      Math.floor(inputTransferCountMax / spec.workload.batchSize),
    ),
  );
}

/** The rounds of the engine and its durable peers, the order rotated by one every round. */
async function runRounds(spec: EngineScenarioSpec, input: EngineInput): Promise<RoundRuns[]> {
  const durable = spec.peers.filter(
    (name): name is 'lmdb-limit' | 'sqlite' => name !== 'memory-limit',
  );
  const runners = [spec.name, ...durable];
  const rounds: RoundRuns[] = [];
  for (let round = 0; round < spec.rounds; round++) {
    const shift = round % runners.length;
    const order = [...runners.slice(shift), ...runners.slice(0, shift)];
    let engine: EngineRunResult | null = null;
    const peerRuns = new Map<string, RunResult>();
    for (const runner of order) {
      if (runner === spec.name) {
        engine = await runEngine({
          base: spec.base,
          workload: spec.workload,
          input,
          durability: spec.durability,
          warmupMs: spec.warmupMs,
          durationMs: spec.durationMs,
          inFlight: spec.inFlight,
          progress: spec.progress,
          label: `${spec.name} #${round + 1}`,
          verify: round === 0,
        });
      } else {
        peerRuns.set(runner, await runPeer(spec, durablePeer(runner as 'lmdb-limit' | 'sqlite')));
      }
    }
    rounds.push({
      order,
      engine: engine as EngineRunResult,
      lmdbLimit: peerRuns.get('lmdb-limit') ?? null,
      sqlite: peerRuns.get('sqlite') ?? null,
    });
  }
  return rounds;
}

export async function runEngineScenario(spec: EngineScenarioSpec): Promise<EngineScenarioOutcome> {
  if (!Number.isInteger(spec.rounds) || spec.rounds < 1)
    throw new Error(`engine: rounds must be an integer >= 1, got ${spec.rounds}`);
  if (!Number.isInteger(spec.inFlight) || spec.inFlight < 1)
    throw new Error(`engine: calls in flight must be an integer >= 1, got ${spec.inFlight}`);
  const loadAverageStart = loadavg()[0] as number;
  const batchCount = planBatches(spec);
  const input = encodeEngineInput(spec.workload, batchCount);
  spec.progress.done(
    `${'engine'.padEnd(12)} ${batchCount.toLocaleString('en-US')} batches of input encoded in ${input.encodeS.toFixed(1)} s (before the first window, not timed)`,
  );
  const rounds = await runRounds(spec, input);
  const memoryLimit = spec.peers.includes('memory-limit')
    ? await runPeer(spec, memoryLimitPeer)
    : null;
  const kernel = await runEngineKernel({
    workload: spec.workload,
    warmupMs: spec.warmupMs,
    durationMs: spec.durationMs,
    progress: spec.progress,
  });
  const summary = summarize({
    spec,
    rounds,
    memoryLimit,
    kernel,
    inputBatches: batchCount,
    encodeS: input.encodeS,
    loadAverageStart,
  });
  const engine = named(
    medianRun(rounds.map((round) => round.engine)),
    spec.name,
    `${rounds.length} round(s), money checked in each, verify() clean after round 1`,
  );
  return { engine, peers: peersOf(rounds, memoryLimit, kernel), summary };
}

function named(run: RunResult, name: string, rounds: string): RunResult {
  return { ...run, name, method: `the median of ${rounds}; ${run.method}` };
}

function peersOf(
  rounds: readonly RoundRuns[],
  memoryLimit: RunResult | null,
  kernel: RunResult,
): RunResult[] {
  const peers: RunResult[] = [];
  const lmdbLimit = rounds
    .map((round) => round.lmdbLimit)
    .filter((run): run is RunResult => run !== null);
  const sqlite = rounds
    .map((round) => round.sqlite)
    .filter((run): run is RunResult => run !== null);
  if (lmdbLimit.length > 0)
    peers.push(named(medianRun(lmdbLimit), 'lmdb-limit', `${rounds.length} round(s)`));
  if (sqlite.length > 0)
    peers.push(named(medianRun(sqlite), 'sqlite', `${rounds.length} round(s)`));
  if (memoryLimit !== null) peers.push(memoryLimit);
  peers.push(kernel);
  return peers;
}

interface Collected {
  readonly spec: EngineScenarioSpec;
  readonly rounds: readonly RoundRuns[];
  readonly memoryLimit: RunResult | null;
  readonly kernel: RunResult;
  readonly inputBatches: number;
  readonly encodeS: number;
  readonly loadAverageStart: number;
}

function summarize(collected: Collected): EngineSummary {
  const rounds: EngineRound[] = collected.rounds.map((round) => {
    const engineTps = round.engine.tps;
    const over = (peer: RunResult | null): number | null =>
      peer === null || peer.tps === 0 ? null : engineTps / peer.tps;
    return {
      order: round.order,
      engineTps,
      lmdbLimitTps: round.lmdbLimit?.tps ?? null,
      sqliteTps: round.sqlite?.tps ?? null,
      engineOverLmdbLimit: over(round.lmdbLimit),
      engineOverSqlite: over(round.sqlite),
      cpuUsPerTransfer: round.engine.cpuUsPerTransfer,
      syncUsPerTransfer: round.engine.syncUsPerTransfer,
      p50Ms: round.engine.latency.p50Ms,
      p99Ms: round.engine.latency.p99Ms,
      exhausted: round.engine.exhausted,
    };
  });
  const first = (collected.rounds[0] as RoundRuns).engine;
  const applied = first.checks?.appliedCount ?? 0;
  return {
    rounds,
    engineTpsMedian: medianOf(rounds.map((round) => round.engineTps)),
    lmdbLimitTpsMedian: medianOrNull(rounds.map((round) => round.lmdbLimitTps)),
    sqliteTpsMedian: medianOrNull(rounds.map((round) => round.sqliteTps)),
    engineOverLmdbLimitMedian: medianOrNull(rounds.map((round) => round.engineOverLmdbLimit)),
    engineOverSqliteMedian: medianOrNull(rounds.map((round) => round.engineOverSqlite)),
    cpuUsPerTransferMedian: medianOf(rounds.map((round) => round.cpuUsPerTransfer)),
    syncUsPerTransferMedian: medianOf(rounds.map((round) => round.syncUsPerTransfer)),
    memoryLimitTps: collected.memoryLimit?.tps ?? null,
    kernelTps: collected.kernel.tps,
    durableFloorTps: engineDurableFloorTps,
    durableTargetTps: engineDurableTargetTps,
    memoryTargetTps: engineMemoryTargetTps,
    inFlight: collected.spec.inFlight,
    inputBatches: collected.inputBatches,
    encodeS: collected.encodeS,
    plainLaneShare: applied === 0 ? 0 : first.plainLaneTransfers / applied,
    verifyMs: first.verifyMs ?? Number.NaN,
    loadAverageStart: collected.loadAverageStart,
    loadAverageEnd: loadavg()[0] as number,
  };
}
