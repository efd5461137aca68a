// Goal: latency percentiles and throughput buckets are right. Method: known data.
import { describe, expect, it } from 'vitest';
import { percentileOfSorted, summarizeLatencies, ThroughputSeries } from '../src/index.js';

describe('stats', () => {
  it('computes nearest-rank percentiles of 1..1000', () => {
    const samples = Float64Array.from({ length: 1000 }, (_, index) => 1000 - index);
    const summary = summarizeLatencies(samples);
    expect(summary).toMatchObject({ count: 1000, p50Ms: 500, p99Ms: 990, p999Ms: 999, maxMs: 1000, meanMs: 500.5 });
  });

  it('returns the only sample for any percentile of one sample', () => {
    expect(percentileOfSorted(Float64Array.of(4.5), 50)).toBe(4.5);
    expect(percentileOfSorted(Float64Array.of(4.5), 99.9)).toBe(4.5);
    expect(Number.isNaN(percentileOfSorted(new Float64Array(0), 50))).toBe(true);
  });

  it('counts transfers per second and drops the partial last second', () => {
    const series = new ThroughputSeries(1000);
    series.add(1100, 10);
    series.add(1900, 5);
    series.add(2500, 7);
    series.add(3200, 1);
    expect(series.perSecond()).toEqual([15, 7]);
  });
});
