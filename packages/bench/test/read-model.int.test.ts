// Goal: the read-model scenario measures what it says: pairs of runs without and with a ReadModel
// (whose totals must equal the money moved), the lag of every open-loop call, and the report
// states each figure against the project's target. Method: the real Ledger and ReadModel (worker
// threads, LMDB and SQLite in temp dirs) on 200 accounts, one round of well under a second.
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, runBench, scenarioNamed, sweepSections } from '../src/index.js';

describe('read-model scenario', () => {
  it('is what standard --with-read-model runs, and goes with no other scenario', () => {
    const parsed = parseBenchArgs(['standard', '--with-read-model', '--rounds', '2'], 'bench');
    expect(
      typeof parsed.options.scenario === 'string'
        ? parsed.options.scenario
        : parsed.options.scenario.name,
    ).toBe('read-model');
    expect(parsed.options.readModelRounds).toBe(2);
    expect(() => parseBenchArgs(['hot', '--with-read-model'], 'bench')).toThrow(
      /goes with standard/,
    );
    expect(() => parseBenchArgs(['read-model', '--rounds', '0'], 'bench')).toThrow(/--rounds/);
  });

  it('measures both sides in one run, times every call to projected, and reports the targets', async () => {
    const result = await runBench({
      scenario: { ...scenarioNamed('read-model'), accounts: 200, batchSize: 256 },
      readModelRounds: 1,
      durationMs: 600,
      warmupMs: 200,
      shards: 1,
      durability: 'relaxed',
      offeredTps: 5_000,
      progress: false,
    });
    const summary = result.readModel;
    expect(summary).toBeTruthy();
    if (summary === null || summary === undefined) return;
    expect(result.subject).toBe('shardledger+read-model');
    expect(result.peers.map((peer) => peer.name)).toEqual(['shardledger (read model off)']);
    const [round] = summary.rounds;
    expect(summary.rounds).toHaveLength(1);
    expect(round!.withTps).toBe(result.tps);
    expect(round!.withoutTps).toBe(result.peers[0]!.tps);
    expect(round!.dropPercent).toBeCloseTo((1 - round!.withTps / round!.withoutTps) * 100, 6);
    expect(summary.offeredTps).toBe(5_000);
    expect(summary.peakDerived).toBe(false);
    // 600 ms with a call of 1,024 due every 204.8 ms: two calls, each timed to projected.
    expect(summary.lagCount).toBe(2);
    expect(summary.lagP50Ms).toBeGreaterThan(0);
    expect(summary.lagP50Ms).toBeLessThanOrEqual(summary.lagMaxMs);
    // The keep-up search runs only when the lag at the offered rate missed the target.
    expect(summary.lagTargetMs).toBe(1_000);
    if (summary.lagMaxMs < 1_000) {
      expect(summary.keepUpTries).toEqual([]);
      expect(summary.keepUpTps).toBe(5_000);
    } else {
      expect(summary.keepUpTries.length).toBeGreaterThan(0);
    }
    const section = sweepSections(result).join('\n');
    expect(section).toContain('target < 10%');
    expect(section).toContain('target < 1,000 ms');
  }, 60_000);

  it('halves the offered rate while the lag misses the target, and reports each try', async () => {
    // A target of 0 ms no run can meet: every halving is tried, and none is the keep-up rate.
    const result = await runBench({
      scenario: { ...scenarioNamed('read-model'), accounts: 200, batchSize: 256 },
      readModelRounds: 1,
      readModelLagTargetMs: 0,
      readModelKeepUpSteps: 2,
      durationMs: 600,
      warmupMs: 200,
      shards: 1,
      durability: 'relaxed',
      offeredTps: 8_192,
      progress: false,
    });
    const summary = result.readModel;
    if (summary === null || summary === undefined) throw new Error('no read-model summary');
    expect(summary.keepUpTps).toBeNull();
    expect(summary.keepUpTries.map((entry) => entry.offeredTps)).toEqual([4_096, 2_048]);
    for (const entry of summary.keepUpTries) {
      // 600 ms at 4,096/s is 2.4 calls of 1,024 due; at 2,048/s, 1.2: each is timed to projected.
      expect(entry.lagCount).toBeGreaterThan(0);
      expect(entry.lagMaxMs).toBeGreaterThan(0);
      expect(entry.lagP50Ms).toBeLessThanOrEqual(entry.lagMaxMs);
      expect(entry.achievedTps).toBeGreaterThan(0);
    }
    const section = sweepSections(result).join('\n');
    expect(section).toContain('4,096/s offered');
    expect(section).toContain('none of these rates met it');
  }, 60_000);
});
