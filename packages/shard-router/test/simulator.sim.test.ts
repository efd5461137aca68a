// Seeded fault simulation of the saga coordinator over real in-process shard engines: thousands of seeds of crashes, lost, duplicated and reordered messages and clock jumps, each checked against a fault-free run.
import { describe, expect, test } from 'vitest';
import { faultKinds, zeroFaults } from './sim/sim-faults.js';
import { runSeed, type SeedResult } from './sim/sim-run.js';

const testFile = 'packages/shard-router/test/simulator.sim.test.ts';
const onlySeed = process.env.SIM_SEED === undefined ? undefined : Number(process.env.SIM_SEED);
const seedCount = Number(process.env.SIM_SEEDS ?? 500);
const firstSeed = Number(process.env.SIM_SEED_START ?? 1);
const parallelSeeds = Number(process.env.SIM_PARALLEL ?? 4);

function replayLine(seed: number): string {
  return `SIM_SEED=${seed} npx vitest run ${testFile}`;
}

function describeFailure(result: SeedResult): string {
  return [
    `seed ${result.seed} failed; replay: ${replayLine(result.seed)}`,
    ...result.problems.slice(0, 12).map((problem) => `  ${problem}`),
  ].join('\n');
}

describe('the seeded fault simulator', () => {
  test('finds nothing acknowledged lost, no money created and the fault-free outcome under every seed', async () => {
    const seeds =
      onlySeed !== undefined
        ? [onlySeed]
        : Array.from({ length: seedCount }, (_, index) => firstSeed + index);
    const faults = zeroFaults();
    const failures: string[] = [];
    let steps = 0;
    let calls = 0;
    let attempts = 0;
    const started = performance.now();
    // A few seeds at once: each one's schedule is its own (its steps wait only for its own
    // engines), and their file I/O overlaps.
    const results: SeedResult[] = [];
    for (let index = 0; index < seeds.length; index += parallelSeeds) {
      results.push(
        ...(await Promise.all(
          seeds.slice(index, index + parallelSeeds).map((seed) => runSeed(seed)),
        )),
      );
    }
    for (const result of results) {
      for (const kind of faultKinds) faults[kind] += result.faults[kind];
      steps += result.steps;
      calls += result.calls;
      attempts += result.attempts;
      if (result.problems.length > 0) {
        failures.push(describeFailure(result));
        console.error(describeFailure(result));
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const mix = faultKinds.map((kind) => `${kind} ${faults[kind]}`).join(', ');
    console.log(
      `simulator: ${seeds.length} seeds (${seeds[0]}..${seeds[seeds.length - 1]}) in ${seconds} s, ${steps} steps, ` +
        `${calls} calls sent ${attempts} times; faults: ${mix}; failing seeds: ${failures.length}`,
    );
    expect(failures).toEqual([]);
  }, 600_000);

  test('replays a seed to the same schedule and the same findings', async () => {
    for (const seed of [onlySeed ?? 7, 1_000_003]) {
      const first = await runSeed(seed);
      const second = await runSeed(seed);
      expect(second.traceDigest).toBe(first.traceDigest);
      expect(second.steps).toBe(first.steps);
      expect(second.problems).toEqual(first.problems);
    }
  });
});
