// The report's sections of the scenarios that have figures of their own: read-model and engine.

import { formatMs, formatPercent, formatRatio, formatTps } from './report-format.js';
import type { EngineSummary, ReadModelSummary } from './result.js';
import { readModelDropTargetPercent } from './scenarios/index.js';

/** The read-model scenario: each pair, the median drop, the lag at half the peak; each against
 * the project's target. */
export function readModelSection(summary: ReadModelSummary): string {
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
export function engineSection(summary: EngineSummary, durability: string): string {
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
