// @shardledger/bench: the benchmark harness as a library.
//
// The contract the cli's `bench` command relies on (kept stable; extend, don't rename):
//   runBench(options: BenchOptions): Promise<BenchResult>
//     options.scenario   a Scenario or its name: standard | cross-shard | hot | accounts-1m |
//                        latency | recovery | scaling | read-model | engine (everything else
//                        optional, see BenchOptions: durationMs 10 s, warmupMs 2 s, shards =
//                        the ledger's default shard count, durability 'strict', seed 42, peers all five, openTarget
//                        Shardledger (null: peers only))
//     resolves to        { scenario, subject, tps, p50Ms, p99Ms, p999Ms, maxMs, transfers,
//                        durationS, shards, accounts, durability, batchSize, peers: [{ name, tps,
//                        ratio, p50Ms, p99Ms, ... }], scaling, crossShardSweep, openLoop, recovery,
//                        wallS, environment, command, ... } (result.ts);
//                        ratio = subject tps / peer tps
//     rejects            when a run loses or invents money or verify() is not clean (exit non-zero)
//   runBenchCommand(argv, { commandPrefix }) parses a command line (benchUsage), runs, prints the
//   table and writes --json / --report / --docs: `shardledger bench standard --duration 10` is
//   `runBenchCommand(['standard', '--duration', '10'], { commandPrefix: 'shardledger bench' })`.
export type {
  AccountBalances,
  AccountInput,
  Durability,
  ItemResult,
  LedgerTarget,
  OpenTarget,
  OpenTargetOptions,
  TransferInput,
  VerifyReport,
} from './target.js';
export {
  accountIdOf,
  accountsOf,
  batchSeedOf,
  batchSizeDefault,
  generateWorkload,
  totalAmountOf,
  transferCountDefault,
  transferIdOf,
  transfersOf,
  type Workload,
  type WorkloadBatch,
  type WorkloadOptions,
} from './workload.js';
export { idKinds, isIdKind, type IdKind } from './transfer-ids.js';
export { createPrng, type Prng } from './prng.js';
export { fnv1a32, hashShardOf } from './hash.js';
export {
  LatencyRecorder,
  percentileOfSorted,
  summarizeLatencies,
  ThroughputSeries,
  type LatencySummary,
} from './stats.js';
export { createProgress, type Progress } from './progress.js';
export { measure, type Measurement, type MeasureOptions } from './measure.js';
export {
  correctedLatencyMs,
  dueSendCount,
  openLoopInFlightMax,
  planOpenLoop,
  runOpenLoop,
  scheduledSendMs,
  type OpenLoopPlan,
  type OpenLoopResult,
} from './open-loop.js';
export {
  isSkipped,
  type Peer,
  type RunOptions,
  type RunResult,
  type SkippedRun,
} from './peers/peer.js';
export { sqliteInsertPeer, sqlitePeer } from './peers/sqlite.js';
export {
  createPostgresPeer,
  postgresConnectionsDefault,
  type PostgresPeerOptions,
} from './peers/postgres.js';
export { startPostgres } from './peers/postgres-server.js';
export { memoryLimitPeer } from './peers/memory-limit.js';
export { lmdbLimitPeer } from './peers/lmdb-limit.js';
export {
  runTarget,
  createWorkloadAccounts,
  checkMoney,
  type TargetRunResult,
} from './targets/run-target.js';
export { openShardledger } from './targets/shardledger.js';
export {
  encodeEngineInput,
  runEngine,
  runEngineKernel,
  type EngineInput,
  type EngineRunResult,
  type EngineRunSpec,
} from './targets/shard-engine.js';
export {
  enginePeerNames,
  runEngineScenario,
  type EnginePeerName,
  type EngineScenarioOutcome,
  type EngineScenarioSpec,
} from './engine-run.js';
export {
  runRecovery,
  recoveryWriterPath,
  type RecoveryOptions,
  type RecoveryResult,
} from './recovery.js';
export { benchDefaults, peerNames, type BenchOptions, type PeerName } from './bench-options.js';
export { runBench } from './run-bench.js';
export { benchUsage, parseBenchArgs, runBenchCommand } from './bench-command.js';
export {
  scenarioNamed,
  scenarioNames,
  scenarios,
  crossShardScenario,
  crossShardRatiosDefault,
  type Scenario,
  type ScenarioKind,
} from './scenarios/index.js';
export type {
  BenchResult,
  CrossShardPoint,
  EngineRound,
  EngineSummary,
  OpenLoopSummary,
  RecoverySummary,
  RunEntry,
  ScalingPoint,
} from './result.js';
export { captureEnvironment, type Environment } from './environment.js';
export {
  markdownReport,
  resultsTable,
  summaryLines,
  sweepSections,
  writeJsonResult,
  writeReport,
} from './report.js';
export { renderCharts, renderSvg, type ChartSpec } from './charts.js';
export {
  readJsonResult,
  replaceResultsSection,
  resultsSection,
  updateDocsFile,
} from './docs-section.js';
