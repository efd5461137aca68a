// Writers for a result: `--json FILE` and `--report DIR` (Markdown plus SVG charts).

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { renderCharts } from './charts.js';
import type { BenchResult, EngineSummary, ReadModelSummary, RunEntry } from './result.js';
import type { IdKind } from './transfer-ids.js';
import type { PairKind } from './workload.js';
import { readModelDropTargetPercent } from './scenarios/index.js';

const gibibyte = 1024 ** 3;

export async function writeJsonResult(file: string, result: BenchResult): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
}

export function formatTps(tps: number | null): string {
  return tps === null ? '-' : Math.round(tps).toLocaleString('en-US');
}

function formatMs(ms: number | null): string {
  if (ms === null || Number.isNaN(ms)) return '-';
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

function formatRatio(ratio: number | null): string {
  if (ratio === null) return '-';
  if (ratio >= 10) return `${ratio.toFixed(0)}x`;
  return ratio >= 0.1 ? `${ratio.toFixed(2)}x` : `${ratio.toPrecision(2)}x`;
}

/** The results table: the subject first, then each peer with its ratio. */
export function resultsTable(result: BenchResult): string {
  const subject: RunEntry = {
    name: `**${result.subject}**`,
    tps: result.tps,
    ratio: 1,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    p999Ms: result.p999Ms,
    maxMs: result.maxMs,
    transfers: result.transfers,
    durationS: result.durationS,
    tpsPerSecond: result.tpsPerSecond,
    method: result.method,
    exhausted: false,
  };
  const lines = [
    `| runner | transfers/s | ${result.subject} ÷ runner | p50 ms | p99 ms | p99.9 ms | max ms | transfers | window s |`,
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const entry of [subject, ...result.peers]) {
    if (entry.skipped !== undefined) {
      lines.push(`| ${entry.name} | skipped: ${entry.skipped} | | | | | | | |`);
      continue;
    }
    const cells = [
      entry.name,
      formatTps(entry.tps),
      formatRatio(entry.ratio),
      formatMs(entry.p50Ms),
      formatMs(entry.p99Ms),
      formatMs(entry.p999Ms),
      formatMs(entry.maxMs),
      entry.transfers.toLocaleString('en-US'),
      entry.durationS.toFixed(1),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Sweeps and scenario-specific figures, as Markdown (empty when the scenario has none). */
export function sweepSections(result: BenchResult): string[] {
  const sections: string[] = [];
  // Results written before these fields existed (readJsonResult) have none of them.
  const crossShardSweep = result.crossShardSweep ?? [];
  const scaling = result.scaling ?? [];
  const openLoop = result.openLoop ?? null;
  const recovery = result.recovery ?? null;
  if (crossShardSweep.length > 0) {
    sections.push(
      [
        '| cross-shard ratio | cross-shard transfers sent | transfers/s | p50 ms | p99 ms | transfers | window s |',
        '|--:|--:|--:|--:|--:|--:|--:|',
        ...crossShardSweep.map(
          (point) =>
            `| ${(point.crossShardRatio * 100).toFixed(0)}% | ${point.crossShardTransfers.toLocaleString('en-US')} | ${formatTps(point.tps)} | ${formatMs(point.p50Ms)} | ${formatMs(point.p99Ms)} | ${point.transfers.toLocaleString('en-US')} | ${point.durationS.toFixed(1)} |`,
        ),
      ].join('\n'),
    );
  }
  if (scaling.length > 0) {
    sections.push(
      [
        '| shards | transfers/s | p50 ms | p99 ms | transfers | window s |',
        '|--:|--:|--:|--:|--:|--:|',
        ...scaling.map(
          (point) =>
            `| ${point.shards} | ${formatTps(point.tps)} | ${formatMs(point.p50Ms ?? null)} | ${formatMs(point.p99Ms ?? null)} | ${point.transfers?.toLocaleString('en-US') ?? '-'} | ${point.durationS?.toFixed(1) ?? '-'} |`,
        ),
        ...scalingRatioLines(scaling),
      ].join('\n'),
    );
  }
  if (openLoop !== null) {
    const open = openLoop;
    sections.push(
      [
        `- open loop: offered ${formatTps(open.offeredTps)} transfers/s${open.peakTps === null ? '' : ` (half the closed-loop peak of ${formatTps(open.peakTps)})`}, a call of ${open.batchSize} every ${open.intervalMs.toFixed(2)} ms, ${open.sends.toLocaleString('en-US')} calls${open.saturated ? ', **SATURATED** (in-flight bound hit)' : ''}`,
        `- latency from the scheduled send time: p50 ${formatMs(result.p50Ms)} ms, p99 ${formatMs(result.p99Ms)} ms, p99.9 ${formatMs(result.p999Ms)} ms, max ${formatMs(result.maxMs)} ms`,
        `- uncorrected (from the actual send, as a closed loop would report): p50 ${formatMs(open.uncorrectedP50Ms)} ms, p99 ${formatMs(open.uncorrectedP99Ms)} ms`,
      ].join('\n'),
    );
  }
  const goalFigures = goalFiguresLine(result);
  if (goalFigures !== null) sections.push(goalFigures);
  const readModel = result.readModel ?? null;
  if (readModel !== null) sections.push(readModelSection(readModel));
  const engine = result.engine ?? null;
  if (engine !== null) sections.push(engineSection(engine, result.durability));
  if (recovery !== null) {
    sections.push(
      [
        `- ${recovery.transfersAcknowledged.toLocaleString('en-US')} acknowledged transfers written in ${recovery.writeS.toFixed(1)} s by a child process, then SIGKILL mid-write`,
        `- Ledger.open (recovery): ${recovery.openMs.toFixed(0)} ms (${formatTps(recovery.recoveredTps)} acknowledged transfers per second of recovery); verify(): ${recovery.verifyMs.toFixed(0)} ms, clean`,
      ].join('\n'),
    );
  }
  return sections;
}

/** The project's speed goals, each for one workload (10,000 accounts, batches of 8,190, strict),
 * in absolute terms on the 2-core reference machine and as a ratio of a peer measured in the same
 * run (the figure that survives a machine whose speed varies). The target of a million transfers
 * a second is the peak of a large payment system, on one machine, with room for its read side. */
interface SpeedGoal {
  /** What the workload is, as the report names it. */
  readonly workload: string;
  readonly pairs: PairKind;
  readonly crossShardRatio: number;
  /** Only for these ids; any when absent. */
  readonly ids?: IdKind;
  readonly floorTps: number;
  readonly targetTps: number;
  readonly peer: 'sqlite' | 'sqlite-insert';
  /** The floor as a ratio of the peer, and why that ratio. */
  readonly peerFloorRatio: number;
  readonly peerReason: string;
}

const speedGoals: readonly SpeedGoal[] = [
  {
    workload: 'uniform pairs and UUIDv4 ids, what applications send',
    pairs: 'uniform',
    crossShardRatio: 0,
    ids: 'uuidv4',
    floorTps: 300_000,
    targetTps: 600_000,
    peer: 'sqlite',
    peerFloorRatio: 2,
    peerReason:
      'SQLite batched does the same bookkeeping on one thread; sharding must pay for itself',
  },
  {
    workload: 'co-located pairs, 0% cross-shard',
    pairs: 'co-located',
    crossShardRatio: 0,
    floorTps: 500_000,
    targetTps: 1_000_000,
    peer: 'sqlite-insert',
    peerFloorRatio: 1.25,
    peerReason:
      'a ledger that checks and updates balances should still beat a loop that only inserts rows',
  },
  {
    workload: 'co-located pairs, 10% cross-shard',
    pairs: 'co-located',
    crossShardRatio: 0.1,
    floorTps: 200_000,
    targetTps: 1_000_000,
    peer: 'sqlite-insert',
    peerFloorRatio: 0.5,
    peerReason:
      'a cross-shard transfer writes on two shards, so a tenth of them may halve the rate',
  },
];

/** The goal whose workload a run measured, or undefined. */
function goalOf(result: BenchResult): SpeedGoal | undefined {
  const comparable =
    (result.scenario === 'standard' || result.scenario === 'cross-shard') &&
    result.subject.startsWith('shardledger') &&
    result.accounts === 10_000 &&
    result.durability === 'strict' &&
    result.batchSize === 8190 &&
    result.hotExponent === null;
  if (!comparable) return undefined;
  const pairs = result.pairs ?? 'co-located';
  const ids = result.ids ?? 'ordered';
  return speedGoals.find(
    (goal) =>
      goal.pairs === pairs &&
      goal.crossShardRatio === result.crossShardRatio &&
      (goal.ids === undefined || goal.ids === ids),
  );
}

/** The run against the project's goal for its workload, absolutely and as a ratio of the goal's
 * peer in the same run. */
function goalFiguresLine(result: BenchResult): string | null {
  const goal = goalOf(result);
  if (goal === undefined) return null;
  const met = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const parts = [
    `- against the project's goals for ${goal.workload}: floor ${formatTps(goal.floorTps)}/s: ${met(result.tps >= goal.floorTps)}; target ${formatTps(goal.targetTps)}/s: ${met(result.tps >= goal.targetTps)}`,
  ];
  const peer = result.peers.find((entry) => entry.name === goal.peer && entry.tps !== null);
  if (peer !== undefined && peer.tps !== null && peer.ratio !== null) {
    parts.push(
      `- read as a ratio, the floor is set as ${formatRatio(goal.peerFloorRatio)} of ${goal.peer} (${goal.peerReason}); ${goal.peer} did ${formatTps(peer.tps)}/s in this run, so the floor is ${formatTps(goal.peerFloorRatio * peer.tps)}/s here: ${met(peer.ratio >= goal.peerFloorRatio)} (Shardledger ÷ ${goal.peer} ${formatRatio(peer.ratio)})`,
    );
  }
  return parts.join('\n');
}

/** Whether sharding pays: each shard count's rate as a ratio of one shard's, in the same run. */
function scalingRatioLines(scaling: BenchResult['scaling']): string[] {
  const one = scaling.find((point) => point.shards === 1);
  if (one === undefined || one.tps <= 0) return [];
  const others = scaling.filter((point) => point.shards !== 1);
  if (others.length === 0) return [];
  return [
    '',
    `- ${others.map((point) => `${point.shards} shards ÷ 1 shard: ${formatRatio(point.tps / one.tps)}`).join('; ')}`,
  ];
}

function formatPercent(value: number): string {
  return `${value.toFixed(1)}%`;
}

/** The read-model scenario: each pair, the median drop, the lag at half the peak; each against
 * the project's target. */
function readModelSection(summary: ReadModelSummary): string {
  const met = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const lines = [
    '| round | order | without read model, transfers/s | with, transfers/s | drop | catch-up after the run (round 1) |',
    '|--:|---|--:|--:|--:|--:|',
    ...summary.rounds.map(
      (round, index) =>
        `| ${index + 1} | ${round.withFirst ? 'with first' : 'without first'} | ${formatTps(round.withoutTps)} | ${formatTps(round.withTps)} | ${formatPercent(round.dropPercent)} | ${catchUpCell(round)} |`,
    ),
    '',
    `- write throughput drop with the read model on, median of ${summary.rounds.length} pair(s): ${formatPercent(summary.dropPercentMedian)} (target < ${readModelDropTargetPercent}%: ${met(summary.dropPercentMedian < readModelDropTargetPercent)})`,
    `- projection lag at ${formatTps(summary.offeredTps)} transfers/s offered${summary.peakDerived ? ` (half the median peak of ${formatTps(summary.peakTps)})` : ''}, calls of ${summary.lagBatchSize.toLocaleString('en-US')}, from each call's acknowledgement until the read model holds it, ${summary.lagCount.toLocaleString('en-US')} calls: p50 ${formatMs(summary.lagP50Ms)} ms, p99 ${formatMs(summary.lagP99Ms)} ms, max ${formatMs(summary.lagMaxMs)} ms (target < ${summary.lagTargetMs.toLocaleString('en-US')} ms: ${met(summary.lagMaxMs < summary.lagTargetMs)} at the max${summary.saturated ? '; **SATURATED**: the in-flight bound was hit' : ''})`,
    `- write latency per call in that open loop: p50 ${formatMs(summary.writeP50MsWith)} ms, p99 ${formatMs(summary.writeP99MsWith)} ms with the read model; p50 ${formatMs(summary.writeP50MsWithout)} ms, p99 ${formatMs(summary.writeP99MsWithout)} ms without (achieved ${formatTps(summary.achievedTpsWith)} and ${formatTps(summary.achievedTpsWithout)} transfers/s)`,
    ...keepUpLines(summary),
    `- 1-minute load average of the machine: ${summary.loadAverageStart.toFixed(2)} at the start, ${summary.loadAverageEnd.toFixed(2)} at the end (other processes share the cores)`,
  ];
  return lines.join('\n');
}

/** A round's catch-up: its time, and its rate where the backlog it projected is known. */
function catchUpCell(round: ReadModelSummary['rounds'][number]): string {
  if (round.catchUpMs === null) return '-';
  const events = round.catchUpEvents ?? null;
  if (events === null || round.catchUpMs <= 0) return `${formatMs(round.catchUpMs)} ms`;
  const rate = (events / round.catchUpMs) * 1000;
  return `${formatMs(round.catchUpMs)} ms (${events.toLocaleString('en-US')} events, ${formatTps(rate)}/s)`;
}

/** The keep-up search, when the lag at the offered rate missed the target. */
function keepUpLines(summary: ReadModelSummary): string[] {
  if (summary.keepUpTries.length === 0) return [];
  const tries = summary.keepUpTries.map(
    (entry) =>
      `${formatTps(entry.offeredTps)}/s offered (${formatTps(entry.achievedTps)} achieved, ${entry.lagCount.toLocaleString('en-US')} calls): lag p50 ${formatMs(entry.lagP50Ms)} ms, p99 ${formatMs(entry.lagP99Ms)} ms, max ${formatMs(entry.lagMaxMs)} ms`,
  );
  const verdict =
    summary.keepUpTps === null
      ? `none of these rates met it`
      : `the read model keeps up (lag max < ${summary.lagTargetMs.toLocaleString('en-US')} ms) at ${formatTps(summary.keepUpTps)} transfers/s, ${formatPercent((summary.keepUpTps / summary.peakTps) * 100)} of the peak`;
  return [
    `- the same open loop with the read model at lower rates: ${tries.join('; ')}; ${verdict}`,
  ];
}

/** The engine scenario: each round, the medians with the project's floor and targets next to them,
 * the same-run ratios (the figures to compare across runs on a shared machine), the in-memory
 * figures and the CPU cost. */
function engineSection(summary: EngineSummary, durability: string): string {
  const met = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const optional = (value: number | null, format: (present: number) => string): string =>
    value === null ? '-' : format(value);
  const lines = [
    `| round | order | shard-engine transfers/s | lmdb-limit | sqlite | engine ÷ lmdb-limit | engine ÷ sqlite | CPU µs/transfer | in-call wall µs/transfer | p50 ms | p99 ms |`,
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...summary.rounds.map(
      (round, index) =>
        `| ${index + 1} | ${round.order.join(', ')} | ${formatTps(round.engineTps)}${round.exhausted ? ' (input ran out)' : ''} | ${formatTps(round.lmdbLimitTps)} | ${formatTps(round.sqliteTps)} | ${formatRatio(round.engineOverLmdbLimit)} | ${formatRatio(round.engineOverSqlite)} | ${round.cpuUsPerTransfer.toFixed(2)} | ${round.syncUsPerTransfer.toFixed(2)} | ${formatMs(round.p50Ms)} | ${formatMs(round.p99Ms)} |`,
    ),
    '',
    `- durable (\`${durability}\`), one shard, median of ${summary.rounds.length} round(s): **${formatTps(summary.engineTpsMedian)} transfers/s** (floor ${formatTps(summary.durableFloorTps)}: ${met(summary.engineTpsMedian >= summary.durableFloorTps)}; target ${formatTps(summary.durableTargetTps)}: ${met(summary.engineTpsMedian >= summary.durableTargetTps)}); medians of the peers: lmdb-limit ${optional(summary.lmdbLimitTpsMedian, formatTps)} records/s, SQLite ${optional(summary.sqliteTpsMedian, formatTps)} transfers/s`,
    `- same-run ratios, median of the rounds' ratios (the figures that survive a noisy machine): engine ÷ lmdb-limit ${formatRatio(summary.engineOverLmdbLimitMedian)}, engine ÷ sqlite ${formatRatio(summary.engineOverSqliteMedian)}`,
    `- in memory, one thread: the engine's transfer kernel ${optional(summary.kernelTps, formatTps)} transfers/s (target ${formatTps(summary.memoryTargetTps)}: ${summary.kernelTps === null ? '-' : met(summary.kernelTps >= summary.memoryTargetTps)}); memory-limit ${optional(summary.memoryLimitTps, formatTps)}${summary.kernelTps !== null && summary.memoryLimitTps !== null ? ` (kernel ÷ memory-limit ${formatRatio(summary.kernelTps / summary.memoryLimitTps)})` : ''}`,
    `- CPU per transfer, median: ${summary.cpuUsPerTransferMedian.toFixed(2)} µs (process.cpuUsage, every thread, over the window); wall time inside the submitEncoded calls (decide, evolve, the log record, up to awaiting the commit; on a loaded machine it includes time the thread waited for a core): ${summary.syncUsPerTransferMedian.toFixed(2)} µs`,
    `- input: ${summary.inputBatches.toLocaleString('en-US')} batches encoded in ${summary.encodeS.toFixed(1)} s before the first round, shared by every round (not timed: the router's work); ${summary.inFlight} calls in flight; plain-transfer lane share ${(summary.plainLaneShare * 100).toFixed(1)}%; verify() after round 1: ${summary.verifyMs.toFixed(0)} ms, clean`,
    `- 1-minute load average of the machine: ${summary.loadAverageStart.toFixed(2)} at the start, ${summary.loadAverageEnd.toFixed(2)} at the end (other processes share the cores)`,
  ];
  return lines.join('\n');
}

/** A few plain lines for the console after the table. */
export function summaryLines(result: BenchResult): string[] {
  const peers = result.peers
    .filter((peer) => peer.ratio !== null)
    .map((peer) => `${peer.name} ${formatRatio(peer.ratio)}`);
  return [
    ...sweepSections(result),
    `${result.subject}: ${formatTps(result.tps)} transfers/s, p50 ${formatMs(result.p50Ms)} ms, p99 ${formatMs(result.p99Ms)} ms per call; ${result.subject} ÷ peer: ${peers.join(', ') || '-'}`,
    `wall time ${(result.wallS ?? Number.NaN).toFixed(1)} s (setup, every runner and the checks)`,
  ];
}

export function machineSection(result: BenchResult): string {
  const env = result.environment;
  return [
    `- CPU: ${env.cpuModel}, ${env.cpuCount} cores; memory ${(env.memoryBytes / gibibyte).toFixed(1)} GiB`,
    `- Node ${env.nodeVersion} on ${env.platform}`,
    `- commit ${env.commit ?? 'unknown'}${env.dirty === true ? ' (with uncommitted changes)' : ''}`,
  ].join('\n');
}

function pairsText(result: BenchResult): string {
  if ((result.pairs ?? 'co-located') === 'uniform')
    return 'pairs: both accounts drawn from all accounts (`uniform`), so a transfer crosses shards wherever hashing puts its accounts';
  return `pairs: co-located (both accounts on one shard) except a ${result.crossShardRatio} share drawn across shards`;
}

function idsText(ids: IdKind): string {
  if (ids === 'uuidv4') return 'random UUIDv4 (`uuidv4`)';
  if (ids === 'uuidv7') return 'time-ordered UUIDv7 (`uuidv7`)';
  return "the bench's own ascending counters (`ordered`)";
}

export function parametersSection(result: BenchResult): string {
  return [
    `- scenario \`${result.scenario}\`: ${result.accounts.toLocaleString('en-US')} accounts, batches of ${result.batchSize.toLocaleString('en-US')}, \`${result.durability}\` durability, ${result.shards} shard(s)`,
    `- ${pairsText(result)}; ${result.crossShardTransfers.toLocaleString('en-US')} transfers generated across shards${result.hotExponent === null ? '' : `; Zipf-skewed debit accounts (exponent ${result.hotExponent})`}`,
    `- transfer ids: ${idsText(result.ids ?? 'ordered')}`,
    `- seed ${result.seed}; started ${result.startedAt}; wall time ${(result.wallS ?? Number.NaN).toFixed(1)} s`,
    `- command: \`${result.command}\``,
  ].join('\n');
}

export function methodsSection(result: BenchResult): string {
  const subject = `- **${result.subject}**: ${result.method}`;
  return [
    subject,
    ...result.peers.map(
      (peer) =>
        `- **${peer.name}**: ${peer.skipped ?? peer.method}${peer.exhausted ? ' (stopped early: pre-generated workload used up)' : ''}`,
    ),
  ].join('\n');
}

export function markdownReport(result: BenchResult, chartFiles: readonly string[]): string {
  return [
    `# Shardledger bench: ${result.scenario}`,
    '',
    '## Machine',
    '',
    machineSection(result),
    '',
    '## Parameters',
    '',
    parametersSection(result),
    '',
    '## Results',
    '',
    resultsTable(result),
    '',
    ...sweepSections(result).flatMap((section) => [section, '']),
    'Latency is per call: one batch for batched runners, one transaction for PostgreSQL.',
    '',
    methodsSection(result),
    '',
    '## Charts',
    '',
    ...chartFiles.map((file) => `![${file.replace('.svg', '')}](${file})\n`),
  ].join('\n');
}

/** Writes DIR/report.md, DIR/result.json and the SVG charts. Returns the files written. */
export async function writeReport(dir: string, result: BenchResult): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const charts = await renderCharts(result);
  const written: string[] = [];
  for (const [file, svg] of charts) {
    await writeFile(join(dir, file), svg);
    written.push(join(dir, file));
  }
  await writeFile(join(dir, 'report.md'), markdownReport(result, [...charts.keys()]));
  await writeJsonResult(join(dir, 'result.json'), result);
  return [join(dir, 'report.md'), join(dir, 'result.json'), ...written];
}
