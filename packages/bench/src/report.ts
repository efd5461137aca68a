// Writers for a result: `--json FILE` and `--report DIR` (Markdown plus SVG charts).

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { renderCharts } from './charts.js';
import type { BenchResult, RunEntry } from './result.js';
import { idPrefix, type IdKind } from './transfer-ids.js';
import type { PairKind } from './workload.js';
import { formatMs, formatRatio, formatTps } from './report-format.js';
import { engineSection, readModelSection } from './report-scenarios.js';

const gibibyte = 1024 ** 3;

export async function writeJsonResult(file: string, result: BenchResult): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
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
  if (ids === 'prefixed') return `random UUIDv4 after the prefix \`${idPrefix}\` (\`prefixed\`)`;
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
