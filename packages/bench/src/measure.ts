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
  const loop = new MeasureLoop(options);
  // Async runners yield while a call is in flight: a timer keeps the line alive between
  // completions (a batch may take seconds). Synchronous runners are reported from the loop.
  let rejectStall: (error: Error) => void = () => undefined;
  const stall = new Promise<never>((_resolve, reject) => {
    rejectStall = reject;
  });
  if (options.warmupMs <= 0) options.onWindowStart?.();
  const timer = setInterval(() => {
    const nowMs = performance.now();
    if (nowMs - loop.lastMs > stallTimeoutMs) {
      loop.stopped = true;
      rejectStall(
        new Error(
          `${options.label}: no call completed for ${stallTimeoutMs / 1000} s; the runner hung`,
        ),
      );
    }
    loop.report(nowMs);
  }, progressIntervalMs);
  try {
    await Promise.race([
      Promise.all(Array.from({ length: options.concurrency }, (_, index) => loop.caller(index))),
      stall,
    ]);
  } finally {
    clearInterval(timer);
  }
  return loop.measurement();
}

/** The state of one measurement: the warm-up, then the window, shared by every caller. */
class MeasureLoop {
  private readonly startMs = performance.now();
  private readonly warmupEndMs: number;
  private measureStartMs: number;
  private measureEndMs: number;
  private readonly latencies = new LatencyRecorder();
  private series: ThroughputSeries;
  private next = 0;
  private transfers = 0;
  private warmupTransfers = 0;
  lastMs = this.startMs;
  /** Where the window really ended: its planned end, or earlier when the units ran out. */
  private windowEndMs = Number.NaN;
  stopped = false;
  private lastProgressMs = this.startMs;
  private exhausted = false;
  private readonly options: MeasureOptions;

  constructor(options: MeasureOptions) {
    this.options = options;
    const { startMs } = this;
    this.warmupEndMs = startMs + options.warmupMs;
    this.measureStartMs = options.warmupMs > 0 ? Number.NaN : startMs;
    this.measureEndMs =
      options.warmupMs > 0 ? Number.POSITIVE_INFINITY : startMs + options.durationMs;
    this.series = new ThroughputSeries(startMs);
  }

  /** Offers the progress line the current phase, rate and recent p99. */
  report(nowMs: number): void {
    this.lastProgressMs = nowMs;
    const phase = Number.isNaN(this.measureStartMs) ? 'warm-up' : 'measure';
    const elapsedMs = nowMs - (phase === 'measure' ? this.measureStartMs : this.startMs);
    const done = phase === 'measure' ? this.transfers : this.warmupTransfers;
    // Until the first call of a phase completes there is no rate yet: show '-', not 0.
    const currentTps = done === 0 ? Number.NaN : (done / Math.max(elapsedMs, 1)) * 1000;
    this.options.progress.update({
      label: this.options.label,
      phase,
      elapsedMs,
      transfers: done,
      currentTps,
      p99Ms:
        this.latencies.count > 0 ? this.latencies.recentP99Ms(progressWindowSamples) : Number.NaN,
    });
  }

  /** One caller: takes the next unit until the window ends or the units run out. */
  async caller(callerIndex: number): Promise<void> {
    const { options } = this;
    while (!this.stopped) {
      if (!options.cycle && this.next >= options.unitCount) {
        this.exhausted = true;
        this.stopped = true;
        break;
      }
      const unit = this.next++ % options.unitCount;
      const beganMs = performance.now();
      const pending = options.step(unit, callerIndex);
      if (pending !== undefined) await pending;
      const endedMs = performance.now();
      this.lastMs = endedMs;
      this.completed(options.unitSize(unit), beganMs, endedMs);
      if (endedMs >= this.measureEndMs) this.stopped = true;
      if (endedMs - this.lastProgressMs >= progressIntervalMs) this.report(endedMs);
    }
  }

  /** Counts a completed unit into the warm-up (opening the window once it is over) or the
   * window. */
  private completed(size: number, beganMs: number, endedMs: number): void {
    if (Number.isNaN(this.measureStartMs)) {
      this.warmupTransfers += size;
      // A runner that may not reuse its units ends the warm-up by the time it took half of
      // them, so that a short run on a fast machine still has units left for the window.
      const halfTaken = !this.options.cycle && 2 * this.next >= this.options.unitCount;
      if (endedMs >= this.warmupEndMs || halfTaken) {
        this.measureStartMs = endedMs;
        this.measureEndMs = endedMs + this.options.durationMs;
        this.series = new ThroughputSeries(endedMs);
        this.options.onWindowStart?.();
      }
    } else if (endedMs <= this.measureEndMs || this.transfers === 0) {
      this.transfers += size;
      this.latencies.record(endedMs - beganMs);
      this.series.add(beganMs, endedMs, size);
      // The only call of the window ran past it.
      if (endedMs > this.measureEndMs) this.windowEndMs = endedMs;
    }
  }

  /** The window's figures, with the progress line's final line. */
  measurement(): Measurement {
    const windowStartMs = Number.isNaN(this.measureStartMs) ? this.startMs : this.measureStartMs;
    if (Number.isNaN(this.windowEndMs)) this.windowEndMs = Math.min(this.measureEndMs, this.lastMs);
    const durationS = Math.max(this.windowEndMs - windowStartMs, 1e-6) / 1000;
    const latency = this.latencies.summary();
    const tps = this.transfers / durationS;
    this.options.progress.done(
      `${this.options.label.padEnd(12)} ${Math.round(tps).toLocaleString('en-US').padStart(11)} transfers/s  p50 ${latency.p50Ms.toFixed(2)} ms  p99 ${latency.p99Ms.toFixed(2)} ms  (${durationS.toFixed(1)} s)`,
    );
    return {
      transfers: this.transfers,
      warmupTransfers: this.warmupTransfers,
      durationS,
      tps,
      latency,
      tpsPerSecond: this.series.perSecond(this.windowEndMs),
      exhausted: this.exhausted,
    };
  }
}
