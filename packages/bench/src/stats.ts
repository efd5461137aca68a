// Latency percentiles (exact: every sample kept and sorted; runs here record at most a few
// hundred thousand samples) and throughput per second over the measured window.

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** Nearest-rank percentile of sorted samples: the smallest value with >= p% of samples at or
 * below. */
export function percentileOfSorted(sorted: Float64Array, percent: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(percent > 0 && percent <= 100))
    throw new Error(`percentile must be in (0, 100], got ${percent}`);
  const rank = Math.ceil((percent * sorted.length) / 100);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Upper median: the sample at index floor(n / 2) of the sorted values, so an actual sample for
 * any count (the run it came from can be found and shown). */
export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export function summarizeLatencies(samples: Float64Array): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    p50Ms: percentileOfSorted(sorted, 50),
    p99Ms: percentileOfSorted(sorted, 99),
    p999Ms: percentileOfSorted(sorted, 99.9),
    maxMs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    meanMs: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

/** Growable list of latency samples in milliseconds. */
export class LatencyRecorder {
  private samples = new Float64Array(1024);
  private length = 0;

  record(latencyMs: number): void {
    if (this.length === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.length++] = latencyMs;
  }

  get count(): number {
    return this.length;
  }

  values(): Float64Array {
    return this.samples.subarray(0, this.length);
  }

  /** p99 of the most recent `window` samples (for the live progress line). */
  recentP99Ms(window: number): number {
    const start = Math.max(0, this.length - window);
    return percentileOfSorted(
      Float64Array.from(this.samples.subarray(start, this.length)).sort(),
      99,
    );
  }

  summary(): LatencySummary {
    return summarizeLatencies(this.values());
  }
}

/** Transfers per second over the measured window, one bucket per second of the window. A call
 * that took [began, ended] is spread evenly over that interval (clipped to the window), so a
 * batch that takes two seconds shows as work done in both seconds, not as a spike when it ends. */
export class ThroughputSeries {
  private readonly counts: number[] = [];
  private readonly startMs: number;

  constructor(startMs: number) {
    this.startMs = startMs;
  }

  /** Adds `transferCount` transfers done evenly over [beganMs, endedMs]. */
  add(beganMs: number, endedMs: number, transferCount: number): void {
    const fromMs = Math.max(beganMs, this.startMs);
    if (endedMs <= fromMs) {
      if (endedMs >= this.startMs)
        this.bump(Math.floor((endedMs - this.startMs) / 1000), transferCount);
      return;
    }
    const perMs = transferCount / (endedMs - beganMs);
    // Integer bucket indexes, not a float cursor: a cursor at start + k * 1000 can floor back to
    // bucket k - 1 and never advance (that hung whole runs).
    const firstSecond = Math.floor((fromMs - this.startMs) / 1000);
    const lastSecond = Math.floor((endedMs - this.startMs) / 1000);
    for (let second = firstSecond; second <= lastSecond; second++) {
      const bucketStartMs = this.startMs + second * 1000;
      const overlapMs = Math.min(endedMs, bucketStartMs + 1000) - Math.max(fromMs, bucketStartMs);
      if (overlapMs > 0) this.bump(second, overlapMs * perMs);
    }
  }

  private bump(second: number, count: number): void {
    while (this.counts.length <= second) this.counts.push(0);
    this.counts[second] = (this.counts[second] as number) + count;
  }

  /** Transfers per second for each full second of a window that ended at `endMs` (at least one
   * bucket: a window shorter than a second gives its average rate). */
  perSecond(endMs: number): number[] {
    const windowMs = endMs - this.startMs;
    const fullSeconds = Math.floor(windowMs / 1000);
    if (fullSeconds < 1) {
      const total = this.counts.reduce((sum, count) => sum + count, 0);
      return [windowMs > 0 ? Math.round((total / windowMs) * 1000) : 0];
    }
    return Array.from({ length: fullSeconds }, (_, second) => Math.round(this.counts[second] ?? 0));
  }
}
