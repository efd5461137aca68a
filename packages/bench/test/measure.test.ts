// Goal: the closed-loop driver measures a window whatever the machine's speed: a runner whose
// units may not be reused (unique transfer ids) keeps units for the window even when the warm-up
// would outlast all of them, and a cycling runner warms up for its whole warm-up. Method: units
// that each take a few milliseconds of real time, a warm-up longer than all of them together.
import { describe, expect, it } from 'vitest';
import { measure } from '../src/measure.js';
import { createProgress } from '../src/progress.js';

const unitMs = 4;

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

function options(cycle: boolean, unitCount: number) {
  return {
    label: 'test',
    warmupMs: 10_000,
    durationMs: 60,
    unitCount,
    cycle,
    concurrency: 1,
    unitSize: () => 10,
    step: () => busy(unitMs),
    progress: createProgress({ enabled: false }),
  };
}

describe('measure', () => {
  it('keeps half the units of a runner that may not reuse them for the window', async () => {
    // A window long enough that it ends only when the units run out.
    const measurement = await measure({ ...options(false, 8), durationMs: 10_000 });
    // The warm-up ends once four of the eight units are taken; the window takes the rest.
    expect(measurement.warmupTransfers).toBe(40);
    expect(measurement.transfers).toBe(40);
    expect(measurement.tps).toBeGreaterThan(0);
  });

  it('warms a cycling runner up for the whole warm-up', async () => {
    const measurement = await measure({ ...options(true, 2), warmupMs: 100 });
    // 100 ms of warm-up at about 4 ms a unit: far more units than the two there are.
    expect(measurement.warmupTransfers).toBeGreaterThan(100);
    expect(measurement.transfers).toBeGreaterThan(0);
  });
});
