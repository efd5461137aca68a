// The closed-loop driver shared by every runner: a warm-up, then a measured window, with
// `concurrency` callers each taking the next unit of work (a batch, or one transfer for
// PostgreSQL) and recording its latency. Stops at the end of the window or when the
// pre-generated units run out (unless the runner may cycle through them again).

import type { Progress } from './progress.js';
import { LatencyRecorder, ThroughputSeries, type LatencySummary } from './stats.js';

const progressWindowSamples = 256;
/** Progress is offered at most this often (computing a p99 per completed unit would cost). */
const progressIntervalMs = 200;
/** A runner that completes no call for this long has hung: the run fails instead of waiting
 * forever (a bound on every wait). */
export const stallTimeoutMs = 120_000;

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
  /** Called once, when the measured window opens (right after the warm-up call that ends the
   * warm-up completes): a runner that samples its own counters (CPU time) starts them here. */
  onWindowStart?(): void;
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
  /** Where the window really ended: its planned end, or earlier when the units ran out. */
  let windowEndMs = Number.NaN;
  let stopped = false;
  let lastProgressMs = startMs;
  let exhausted = false;
  const report = (nowMs: number): void => {
    lastProgressMs = nowMs;
    const phase = Number.isNaN(measureStartMs) ? 'warm-up' : 'measure';
    const elapsedMs = nowMs - (phase === 'measure' ? measureStartMs : startMs);
    const done = phase === 'measure' ? transfers : warmupTransfers;
    // Until the first call of a phase completes there is no rate yet: show '-', not 0.
    const currentTps = done === 0 ? Number.NaN : (done / Math.max(elapsedMs, 1)) * 1000;
    options.progress.update({
      label: options.label,
      phase,
      elapsedMs,
      transfers: done,
      currentTps,
      p99Ms: latencies.count > 0 ? latencies.recentP99Ms(progressWindowSamples) : Number.NaN,
    });
  };
  // Async runners yield while a call is in flight: a timer keeps the line alive between
  // completions (a batch may take seconds). Synchronous runners are reported from the loop.
  let rejectStall: (error: Error) => void = () => undefined;
  const stall = new Promise<never>((_resolve, reject) => {
    rejectStall = reject;
  });
  if (options.warmupMs <= 0) options.onWindowStart?.();
  const timer = setInterval(() => {
    const nowMs = performance.now();
    if (nowMs - lastMs > stallTimeoutMs) {
      stopped = true;
      rejectStall(
        new Error(
          `${options.label}: no call completed for ${stallTimeoutMs / 1000} s; the runner hung`,
        ),
      );
    }
    report(nowMs);
  }, progressIntervalMs);
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
          options.onWindowStart?.();
        }
      } else if (endedMs <= measureEndMs || transfers === 0) {
        transfers += size;
        latencies.record(endedMs - beganMs);
        series.add(beganMs, endedMs, size);
        if (endedMs > measureEndMs) windowEndMs = endedMs; // the only call of the window ran past it
      }
      if (endedMs >= measureEndMs) stopped = true;
      if (endedMs - lastProgressMs >= progressIntervalMs) report(endedMs);
    }
  };
  try {
    await Promise.race([
      Promise.all(Array.from({ length: options.concurrency }, (_, index) => caller(index))),
      stall,
    ]);
  } finally {
    clearInterval(timer);
  }
  const windowStartMs = Number.isNaN(measureStartMs) ? startMs : measureStartMs;
  if (Number.isNaN(windowEndMs)) windowEndMs = Math.min(measureEndMs, lastMs);
  const durationS = Math.max(windowEndMs - windowStartMs, 1e-6) / 1000;
  const latency = latencies.summary();
  const tps = transfers / durationS;
  options.progress.done(
    `${options.label.padEnd(12)} ${Math.round(tps).toLocaleString('en-US').padStart(11)} transfers/s  p50 ${latency.p50Ms.toFixed(2)} ms  p99 ${latency.p99Ms.toFixed(2)} ms  (${durationS.toFixed(1)} s)`,
  );
  return {
    transfers,
    warmupTransfers,
    durationS,
    tps,
    latency,
    tpsPerSecond: series.perSecond(windowEndMs),
    exhausted,
  };
}
