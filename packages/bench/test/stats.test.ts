// Goal: latency percentiles and throughput buckets are right. Method: known data.
import { describe, expect, it } from 'vitest';
import { percentileOfSorted, summarizeLatencies, ThroughputSeries } from '../src/index.js';

describe('stats', () => {
  it('computes nearest-rank percentiles of 1..1000', () => {
    const samples = Float64Array.from({ length: 1000 }, (_, index) => 1000 - index);
    const summary = summarizeLatencies(samples);
    expect(summary).toMatchObject({
      count: 1000,
      p50Ms: 500,
      p99Ms: 990,
      p999Ms: 999,
      maxMs: 1000,
      meanMs: 500.5,
    });
  });

  it('returns the only sample for any percentile of one sample', () => {
    expect(percentileOfSorted(Float64Array.of(4.5), 50)).toBe(4.5);
    expect(percentileOfSorted(Float64Array.of(4.5), 99.9)).toBe(4.5);
    expect(Number.isNaN(percentileOfSorted(new Float64Array(0), 50))).toBe(true);
  });

  it('counts transfers per second of the window and drops the partial last second', () => {
    const series = new ThroughputSeries(1000);
    series.add(1100, 1100, 10);
    series.add(1900, 1900, 5);
    series.add(2500, 2500, 7);
    series.add(3200, 3200, 1);
    expect(series.perSecond(3300)).toEqual([15, 7]);
  });

  it('spreads a long call over the seconds it spanned, clipped to the window', () => {
    const series = new ThroughputSeries(1000);
    series.add(500, 2500, 2000); // 1 per ms; the 500 ms before the window are not counted
    series.add(2500, 4000, 1500);
    expect(series.perSecond(4000)).toEqual([1000, 1000, 1000]);
  });

  it('gives one average bucket for a window shorter than a second', () => {
    const series = new ThroughputSeries(0);
    series.add(0, 250, 100);
    expect(series.perSecond(500)).toEqual([200]);
  });
});

describe('ThroughputSeries at awkward float boundaries', () => {
  it('terminates and conserves the count when a call ends just past a bucket edge', () => {
    const startMs = 12_345.678_901_234;
    const series = new ThroughputSeries(startMs);
    series.add(startMs + 999.999_999_9, startMs + 3000.000_000_1, 2000);
    const total = series.perSecond(startMs + 4000).reduce((sum, count) => sum + count, 0);
    expect(Math.abs(total - 2000)).toBeLessThanOrEqual(2);
  });
});
