// The closed-loop driver shared by every runner: a warm-up, then a measured window, with
// `concurrency` callers each taking the next unit of work (a batch, or one transfer for
// PostgreSQL) and recording its latency. Stops at the end of the window or when the
// pre-generated units run out (unless the runner may cycle through them again).

import type { Progress } from './progress.js';
import { LatencyRecorder, ThroughputSeries, type LatencySummary } from './stats.js';

const progressWindowSamples = 256;
/** Progress is offered at most this often (computing a p99 per completed unit would cost). */
const progressIntervalMs = 200;

export interface MeasureOptions {
  readonly label: string;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly unitCount: number;
  /** May unit indexes wrap around? Only for runners that don't care about transfer ids. */
  readonly cycle: boolean;
  readonly concurrency: number;
  /** Transfers in one unit. */
  unitSize(unit: number): number;
  /** Does one unit of work: synchronous, or a promise. `caller` is in [0, concurrency). */
  step(unit: number, caller: number): void | Promise<void>;
  readonly progress: Progress;
}

export interface Measurement {
  /** Transfers completed in the measured window. */
  readonly transfers: number;
  readonly warmupTransfers: number;
  readonly durationS: number;
  readonly tps: number;
  /** Latency of one unit (a batch call, or one transaction for PostgreSQL). */
  readonly latency: LatencySummary;
  readonly tpsPerSecond: number[];
  /** True when the window ended early because the pre-generated workload ran out. */
  readonly exhausted: boolean;
}

export async function measure(options: MeasureOptions): Promise<Measurement> {
  if (options.unitCount < 1) throw new Error('nothing to measure');
  if (!(options.concurrency >= 1)) throw new Error('concurrency must be >= 1');
  const startMs = performance.now();
  const warmupEndMs = startMs + options.warmupMs;
  let measureStartMs = options.warmupMs > 0 ? Number.NaN : startMs;
  let measureEndMs = options.warmupMs > 0 ? Number.POSITIVE_INFINITY : startMs + options.durationMs;
  const latencies = new LatencyRecorder();
  let series = new ThroughputSeries(startMs);
  let next = 0;
  let transfers = 0;
  let warmupTransfers = 0;
  let lastMs = startMs;
  let stopped = false;
  let lastProgressMs = startMs;
  let exhausted = false;
  const caller = async (callerIndex: number): Promise<void> => {
    while (!stopped) {
      if (!options.cycle && next >= options.unitCount) {
        exhausted = true;
        stopped = true;
        break;
      }
      const unit = next++ % options.unitCount;
      const beganMs = performance.now();
      const pending = options.step(unit, callerIndex);
      if (pending !== undefined) await pending;
      const endedMs = performance.now();
      lastMs = endedMs;
      const size = options.unitSize(unit);
      if (Number.isNaN(measureStartMs)) {
        warmupTransfers += size;
        if (endedMs >= warmupEndMs) {
          measureStartMs = endedMs;
          measureEndMs = endedMs + options.durationMs;
          series = new ThroughputSeries(endedMs);
        }
      } else if (endedMs <= measureEndMs || transfers === 0) {
        transfers += size;
        latencies.record(endedMs - beganMs);
        series.add(endedMs, size);
      }
      if (endedMs >= measureEndMs) stopped = true;
      if (endedMs - lastProgressMs < progressIntervalMs) continue;
      lastProgressMs = endedMs;
      const phase = Number.isNaN(measureStartMs) ? 'warm-up' : 'measure';
      const elapsedMs = endedMs - (phase === 'measure' ? measureStartMs : startMs);
      const done = phase === 'measure' ? transfers : warmupTransfers;
      options.progress.update({ label: options.label, phase, elapsedMs, transfers: done, currentTps: (done / Math.max(elapsedMs, 1)) * 1000, p99Ms: latencies.count > 0 ? latencies.recentP99Ms(progressWindowSamples) : Number.NaN });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => caller(index)));
  const windowStartMs = Number.isNaN(measureStartMs) ? startMs : measureStartMs;
  const windowEndMs = Math.min(measureEndMs, lastMs);
  const durationS = Math.max(windowEndMs - windowStartMs, 1e-6) / 1000;
  const latency = latencies.summary();
  const tps = transfers / durationS;
  options.progress.done(`${options.label.padEnd(12)} ${Math.round(tps).toLocaleString('en-US').padStart(11)} transfers/s  p50 ${latency.p50Ms.toFixed(2)} ms  p99 ${latency.p99Ms.toFixed(2)} ms  (${durationS.toFixed(1)} s)`);
  return { transfers, warmupTransfers, durationS, tps, latency, tpsPerSecond: series.perSecond(), exhausted };
}
